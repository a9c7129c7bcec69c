// A workflow's schedule in words for the dashboard ("Every 15 minutes", "Every day at 09:30
// (Europe/Berlin)"). Common cron shapes get a sentence; any other expression is shown as itself, with
// its time zone, rather than guessed at.
import type { WorkflowSchedule } from '../events/workflow-events.ts';

const DAYS = ['Sunday', 'Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday'];
const DAY_NAMES: Record<string, number> = { sun: 0, mon: 1, tue: 2, wed: 3, thu: 4, fri: 5, sat: 6 };

function plural(n: number, unit: string): string {
  return n === 1 ? `Every ${unit}` : `Every ${n} ${unit}s`;
}

/** An interval of minutes in the largest whole unit. */
export function intervalWords(minutes: number): string {
  if (minutes % 1440 === 0) return plural(minutes / 1440, 'day');
  if (minutes % 60 === 0) return plural(minutes / 60, 'hour');
  return plural(minutes, 'minute');
}

const isNumber = (field: string): boolean => /^\d{1,2}$/.test(field);
const two = (field: string): string => field.padStart(2, '0');

function dayOfWeek(field: string): number | undefined {
  if (/^\d$/.test(field)) return Number(field) % 7;
  return DAY_NAMES[field.toLowerCase()];
}

/** Monday to Friday, a list of days, or undefined when the field is anything else. */
function weekdays(field: string): string | undefined {
  if (/^(1-5|mon-fri)$/i.test(field)) return 'Monday to Friday';
  const days = field.split(',').map(dayOfWeek);
  if (days.some((d) => d === undefined)) return undefined;
  return days.map((d) => DAYS[d!]).join(', ');
}

/** The sentence for a 5-field cron expression of a common shape; undefined for any other. */
export function cronWords(cron: string): string | undefined {
  const fields = cron.trim().split(/\s+/);
  if (fields.length !== 5) return undefined;
  const [minute, hour, dom, month, dow] = fields as [string, string, string, string, string];
  const everyDay = dom === '*' && month === '*' && dow === '*';
  if (minute === '*' && hour === '*' && everyDay) return 'Every minute';
  const stepMinute = /^\*\/(\d{1,2})$/.exec(minute);
  if (stepMinute && hour === '*' && everyDay) return plural(Number(stepMinute[1]), 'minute');
  if (isNumber(minute) && hour === '*' && everyDay) return `Every hour at minute ${Number(minute)}`;
  const stepHour = /^\*\/(\d{1,2})$/.exec(hour);
  if (isNumber(minute) && stepHour && everyDay)
    return `${plural(Number(stepHour[1]), 'hour')} at minute ${Number(minute)}`;
  if (!isNumber(minute) || !isNumber(hour)) return undefined;
  const at = `at ${two(hour)}:${two(minute)}`;
  if (everyDay) return `Every day ${at}`;
  if (dom === '*' && month === '*') {
    const days = weekdays(dow);
    return days ? `Every ${days} ${at}` : undefined;
  }
  if (isNumber(dom) && month === '*' && dow === '*') return `On day ${Number(dom)} of every month ${at}`;
  return undefined;
}

/** The whole schedule in words, with its time zone where it has one. */
export function scheduleWords(schedule: WorkflowSchedule): string {
  switch (schedule.type) {
    case 'interval':
      return intervalWords(schedule.minutes);
    case 'cron': {
      const words = cronWords(schedule.cron) ?? `Cron ${schedule.cron}`;
      return `${words} (${schedule.timezone})`;
    }
    case 'at':
      return `Once at ${schedule.at}`;
  }
}
