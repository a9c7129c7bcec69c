// Checks a cron expression (5 or 6 fields, seconds allowed) and an IANA time zone with croner, the
// same library that computes due times, so what is accepted here is what the scheduler can run.
import { Cron } from 'croner';

export function isValidTimeZone(zone: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: zone });
    return true;
  } catch {
    return false;
  }
}

/** Undefined when valid; otherwise why not, in words for the user. */
export function cronProblem(expression: string, timezone: string): string | undefined {
  const fields = expression.trim().split(/\s+/).length;
  if (fields < 5 || fields > 6) return `a cron expression has 5 or 6 fields, this one has ${fields}`;
  if (!isValidTimeZone(timezone)) return `unknown time zone "${timezone}"`;
  try {
    const cron = new Cron(expression, { timezone, paused: true });
    if (cron.nextRun() === null) return 'the expression never fires';
    return undefined;
  } catch (err) {
    return err instanceof Error ? err.message : String(err);
  }
}
