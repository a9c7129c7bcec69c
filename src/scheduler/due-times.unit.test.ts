import { describe, expect, it } from 'vitest';
import {
  endTick,
  isEnded,
  jitterProblem,
  nextTicks,
  type Tick,
  ticksAfter,
  ticksBetween,
} from './due-times.ts';
import type { AtSpec, CronSpec, DstPolicy, IntervalSpec, ScheduleSpec } from './schedule.ts';
import { formatInZone, zonedWallTimeToInstants } from './zoned-time.ts';

const at = (text: string) => new Date(text);
/** One line per tick: "nominal local [dst]". */
const show = (ticks: Tick[]) =>
  ticks.map((t) => `${t.nominal} ${t.local}${t.dst === null ? '' : ` ${t.dst}`}`);
const cron = (
  expression: string,
  timezone: string,
  dst?: Partial<DstPolicy>,
  more?: Partial<CronSpec>,
): CronSpec => ({
  type: 'cron',
  cron: expression,
  timezone,
  ...(dst === undefined ? {} : { dst }),
  ...more,
});
const SHIFT_ONCE: DstPolicy = { nonexistent: 'shift', repeated: 'once' };
const SKIP_TWICE: DstPolicy = { nonexistent: 'skip', repeated: 'twice' };

describe('interval schedules', () => {
  it('without start_at or anchor, align to the Unix epoch, in UTC', () => {
    const spec: IntervalSpec = { type: 'interval', minutes: 15 };
    expect(show(nextTicks(spec, at('2026-03-29T00:07:00Z'), 3))).toEqual([
      '2026-03-29T00:15:00.000Z 2026-03-29T00:15:00+00:00',
      '2026-03-29T00:30:00.000Z 2026-03-29T00:30:00+00:00',
      '2026-03-29T00:45:00.000Z 2026-03-29T00:45:00+00:00',
    ]);
  });
  it('count from the anchor (the creation time), which is not itself a tick', () => {
    const spec: IntervalSpec = { type: 'interval', minutes: 5, anchor: '2026-03-01T10:02:30.500Z' };
    const first = ['2026-03-01T10:07:30.500Z', '2026-03-01T10:12:30.500Z'];
    expect(nextTicks(spec, at('2026-03-01T10:02:30.500Z'), 2).map((t) => t.nominal)).toEqual(first);
    expect(nextTicks(spec, at('2026-01-01T00:00:00Z'), 2).map((t) => t.nominal)).toEqual(first);
    expect(nextTicks(spec, at('2026-03-01T10:07:30.499Z'), 1).map((t) => t.nominal)).toEqual([first[0]]);
    expect(nextTicks(spec, at('2026-03-01T10:07:30.500Z'), 1).map((t) => t.nominal)).toEqual([first[1]]);
  });
  it('anchor on start_at, which fires, and which wins over the creation anchor for alignment', () => {
    const spec: IntervalSpec = {
      type: 'interval',
      minutes: 60,
      start_at: '2026-03-01T10:00:00Z',
      anchor: '2026-02-20T09:17:00Z',
    };
    expect(nextTicks(spec, at('2026-02-25T00:00:00Z'), 2).map((t) => t.nominal)).toEqual([
      '2026-03-01T10:00:00.000Z',
      '2026-03-01T11:00:00.000Z',
    ]);
    expect(nextTicks(spec, at('2026-03-01T10:00:00Z'), 1).map((t) => t.nominal)).toEqual([
      '2026-03-01T11:00:00.000Z',
    ]);
  });
  it('a start_at with an offset is the same instant', () => {
    const spec: IntervalSpec = { type: 'interval', minutes: 90, start_at: '2026-03-29T00:10:00+01:00' };
    expect(nextTicks(spec, at('2026-03-01T00:00:00Z'), 2).map((t) => t.nominal)).toEqual([
      '2026-03-28T23:10:00.000Z',
      '2026-03-29T00:40:00.000Z',
    ]);
  });
  it('stop at end_at, a tick exactly at it included, and then report the end', () => {
    const spec: IntervalSpec = {
      type: 'interval',
      minutes: 60,
      start_at: '2026-03-01T10:00:00Z',
      end_at: '2026-03-01T12:00:00Z',
    };
    expect(nextTicks(spec, at('2026-03-01T00:00:00Z'), 10).map((t) => t.nominal)).toEqual([
      '2026-03-01T10:00:00.000Z',
      '2026-03-01T11:00:00.000Z',
      '2026-03-01T12:00:00.000Z',
    ]);
    expect(isEnded(spec, at('2026-03-01T11:59:59.999Z'))).toBe(false);
    expect(isEnded(spec, at('2026-03-01T12:00:00Z'))).toBe(true);
    expect(nextTicks(spec, at('2026-03-01T12:00:00Z'), 10)).toEqual([]);
  });
  it('an end_at between ticks ends the schedule after the last tick before it', () => {
    const spec: IntervalSpec = {
      type: 'interval',
      minutes: 60,
      anchor: '2026-03-01T10:00:00Z',
      end_at: '2026-03-01T12:30:00Z',
    };
    expect(nextTicks(spec, at('2026-03-01T10:00:00Z'), 10).map((t) => t.nominal)).toEqual([
      '2026-03-01T11:00:00.000Z',
      '2026-03-01T12:00:00.000Z',
    ]);
    expect(isEnded(spec, at('2026-03-01T12:00:00Z'))).toBe(true);
  });
  it('are UTC arithmetic: DST changes the local time shown, never the spacing', () => {
    const spec: IntervalSpec = { type: 'interval', minutes: 60, timezone: 'Europe/Berlin' };
    expect(show(nextTicks(spec, at('2026-03-28T23:30:00Z'), 3))).toEqual([
      '2026-03-29T00:00:00.000Z 2026-03-29T01:00:00+01:00',
      '2026-03-29T01:00:00.000Z 2026-03-29T03:00:00+02:00',
      '2026-03-29T02:00:00.000Z 2026-03-29T04:00:00+02:00',
    ]);
    expect(show(nextTicks(spec, at('2026-10-24T23:30:00Z'), 3))).toEqual([
      '2026-10-25T00:00:00.000Z 2026-10-25T02:00:00+02:00',
      '2026-10-25T01:00:00.000Z 2026-10-25T02:00:00+01:00',
      '2026-10-25T02:00:00.000Z 2026-10-25T03:00:00+01:00',
    ]);
  });
  it('take the whole range of the original contract (1 to 10080 minutes)', () => {
    const week: IntervalSpec = { type: 'interval', minutes: 10_080, anchor: '2026-02-26T12:00:00Z' };
    expect(nextTicks(week, at('2026-02-26T12:00:00Z'), 2).map((t) => t.nominal)).toEqual([
      '2026-03-05T12:00:00.000Z',
      '2026-03-12T12:00:00.000Z',
    ]);
    const minute: IntervalSpec = { type: 'interval', minutes: 1 };
    expect(ticksBetween(minute, at('2026-01-01T00:00:00Z'), at('2026-01-01T01:00:00Z'), 1000)).toHaveLength(
      60,
    );
  });
  it('refuse a non-positive or fractional interval rather than loop', () => {
    expect(() => nextTicks({ type: 'interval', minutes: 0 }, at('2026-01-01T00:00:00Z'), 1)).toThrow(
      RangeError,
    );
    expect(() => nextTicks({ type: 'interval', minutes: 1.5 }, at('2026-01-01T00:00:00Z'), 1)).toThrow(
      RangeError,
    );
  });
});

describe('cron schedules without DST', () => {
  it('5 fields: minute precision', () => {
    expect(
      nextTicks(cron('*/15 * * * *', 'UTC'), at('2026-05-01T10:07:00Z'), 3).map((t) => t.nominal),
    ).toEqual(['2026-05-01T10:15:00.000Z', '2026-05-01T10:30:00.000Z', '2026-05-01T10:45:00.000Z']);
  });
  it('6 fields: seconds first', () => {
    expect(
      nextTicks(cron('*/10 * * * * *', 'UTC'), at('2026-05-01T10:00:05Z'), 3).map((t) => t.nominal),
    ).toEqual(['2026-05-01T10:00:10.000Z', '2026-05-01T10:00:20.000Z', '2026-05-01T10:00:30.000Z']);
    expect(
      nextTicks(cron('30 * * * * *', 'UTC'), at('2026-05-01T10:00:30Z'), 2).map((t) => t.nominal),
    ).toEqual(['2026-05-01T10:01:30.000Z', '2026-05-01T10:02:30.000Z']);
  });
  it('a tick is strictly after `after`, even by a millisecond', () => {
    const spec = cron('* * * * * *', 'UTC');
    expect(nextTicks(spec, at('2026-05-01T10:00:00.999Z'), 1)[0]?.nominal).toBe('2026-05-01T10:00:01.000Z');
    expect(nextTicks(spec, at('2026-05-01T10:00:01.000Z'), 1)[0]?.nominal).toBe('2026-05-01T10:00:02.000Z');
  });
  it('refuses 7 fields (years), as the API does', () => {
    expect(() => nextTicks(cron('0 0 0 1 1 * 2030', 'UTC'), at('2026-01-01T00:00:00Z'), 1)).toThrow();
  });
  it('UTC: 02:30 on the European spring-forward day is an ordinary tick', () => {
    expect(
      show(nextTicks(cron('30 2 * * *', 'UTC', { nonexistent: 'skip' }), at('2026-03-29T00:00:00Z'), 1)),
    ).toEqual(['2026-03-29T02:30:00.000Z 2026-03-29T02:30:00+00:00']);
  });
  it('Asia/Tokyo: a fixed +09:00 all year', () => {
    const spec = cron('0 9 * * *', 'Asia/Tokyo');
    expect(show(nextTicks(spec, at('2026-03-28T12:00:00Z'), 2))).toEqual([
      '2026-03-29T00:00:00.000Z 2026-03-29T09:00:00+09:00',
      '2026-03-30T00:00:00.000Z 2026-03-30T09:00:00+09:00',
    ]);
    const midsummer = nextTicks(spec, at('2026-07-01T12:00:00Z'), 1);
    expect(show(midsummer)).toEqual(['2026-07-02T00:00:00.000Z 2026-07-02T09:00:00+09:00']);
  });
  it('day-of-month and day-of-week combine with OR, `+` asks for AND', () => {
    const or = nextTicks(cron('0 12 13 * 5', 'UTC'), at('2026-02-01T00:00:00Z'), 3).map((t) => t.nominal);
    expect(or).toEqual(['2026-02-06T12:00:00.000Z', '2026-02-13T12:00:00.000Z', '2026-02-20T12:00:00.000Z']);
    const fridayThe13th = nextTicks(cron('0 12 13 * +5', 'UTC'), at('2026-01-01T00:00:00Z'), 3).map(
      (t) => t.nominal,
    );
    expect(fridayThe13th).toEqual([
      '2026-02-13T12:00:00.000Z',
      '2026-03-13T12:00:00.000Z',
      '2026-11-13T12:00:00.000Z',
    ]);
  });
});

describe('leap days', () => {
  it('0 12 29 2 * fires next on 2028-02-29, then 2032', () => {
    expect(show(nextTicks(cron('0 12 29 2 *', 'UTC'), at('2026-01-01T00:00:00Z'), 2))).toEqual([
      '2028-02-29T12:00:00.000Z 2028-02-29T12:00:00+00:00',
      '2032-02-29T12:00:00.000Z 2032-02-29T12:00:00+00:00',
    ]);
    expect(show(nextTicks(cron('0 12 29 2 *', 'Europe/Berlin'), at('2026-01-01T00:00:00Z'), 1))).toEqual([
      '2028-02-29T11:00:00.000Z 2028-02-29T12:00:00+01:00',
    ]);
  });
  it('L is the last day of February, whichever it is', () => {
    expect(nextTicks(cron('0 0 L 2 *', 'UTC'), at('2026-01-01T00:00:00Z'), 3).map((t) => t.nominal)).toEqual([
      '2026-02-28T00:00:00.000Z',
      '2027-02-28T00:00:00.000Z',
      '2028-02-29T00:00:00.000Z',
    ]);
  });
  it('an interval crosses February 29 as any other day', () => {
    const spec: IntervalSpec = { type: 'interval', minutes: 1440, start_at: '2028-02-28T06:00:00Z' };
    expect(nextTicks(spec, at('2028-01-01T00:00:00Z'), 3).map((t) => t.nominal)).toEqual([
      '2028-02-28T06:00:00.000Z',
      '2028-02-29T06:00:00.000Z',
      '2028-03-01T06:00:00.000Z',
    ]);
  });
  it('a date that never exists never fires, and the schedule counts as ended', () => {
    expect(nextTicks(cron('0 0 30 2 *', 'UTC'), at('2026-01-01T00:00:00Z'), 1)).toEqual([]);
    expect(isEnded(cron('0 0 30 2 *', 'UTC'), at('2026-01-01T00:00:00Z'))).toBe(true);
  });
});

describe('Europe/Berlin, spring forward (2026-03-29: 02:00 CET → 03:00 CEST, 01:00Z)', () => {
  const before = at('2026-03-28T12:00:00Z');
  it('shift (default): 02:30 fires at the next valid instant, 03:00 CEST', () => {
    expect(show(nextTicks(cron('30 2 * * *', 'Europe/Berlin'), before, 2))).toEqual([
      '2026-03-29T01:00:00.000Z 2026-03-29T03:00:00+02:00 shifted',
      '2026-03-30T00:30:00.000Z 2026-03-30T02:30:00+02:00',
    ]);
  });
  it('skip: 02:30 still appears, as a skipped tick just before the gap ends', () => {
    expect(show(nextTicks(cron('30 2 * * *', 'Europe/Berlin', { nonexistent: 'skip' }), before, 2))).toEqual([
      '2026-03-29T00:59:59.999Z 2026-03-29T02:30:00+01:00 skipped',
      '2026-03-30T00:30:00.000Z 2026-03-30T02:30:00+02:00',
    ]);
  });
  it('shift: a gap time folds into a tick the pattern has at 03:00 itself (no double run)', () => {
    expect(show(nextTicks(cron('0 * * * *', 'Europe/Berlin'), at('2026-03-28T23:30:00Z'), 3))).toEqual([
      '2026-03-29T00:00:00.000Z 2026-03-29T01:00:00+01:00',
      '2026-03-29T01:00:00.000Z 2026-03-29T03:00:00+02:00',
      '2026-03-29T02:00:00.000Z 2026-03-29T04:00:00+02:00',
    ]);
  });
  it('skip: the hourly 02:00 is recorded apart from the 03:00 tick, at a distinct instant', () => {
    expect(
      show(
        nextTicks(cron('0 * * * *', 'Europe/Berlin', { nonexistent: 'skip' }), at('2026-03-28T23:30:00Z'), 3),
      ),
    ).toEqual([
      '2026-03-29T00:00:00.000Z 2026-03-29T01:00:00+01:00',
      '2026-03-29T00:59:59.999Z 2026-03-29T02:00:00+01:00 skipped',
      '2026-03-29T01:00:00.000Z 2026-03-29T03:00:00+02:00',
    ]);
  });
  it('several times in one gap make one tick, shown at the first of them', () => {
    const from = at('2026-03-29T00:30:00Z');
    expect(show(nextTicks(cron('20,40 * * * *', 'Europe/Berlin'), from, 3))).toEqual([
      '2026-03-29T00:40:00.000Z 2026-03-29T01:40:00+01:00',
      '2026-03-29T01:00:00.000Z 2026-03-29T03:00:00+02:00 shifted',
      '2026-03-29T01:20:00.000Z 2026-03-29T03:20:00+02:00',
    ]);
    expect(show(nextTicks(cron('20,40 * * * *', 'Europe/Berlin', { nonexistent: 'skip' }), from, 3))).toEqual(
      [
        '2026-03-29T00:40:00.000Z 2026-03-29T01:40:00+01:00',
        '2026-03-29T00:59:59.999Z 2026-03-29T02:20:00+01:00 skipped',
        '2026-03-29T01:20:00.000Z 2026-03-29T03:20:00+02:00',
      ],
    );
  });
  it('with seconds, the skipped tick sits between the last second before the gap and the first after', () => {
    const ticks = nextTicks(
      cron('*/20 * * * * *', 'Europe/Berlin', { nonexistent: 'skip' }),
      at('2026-03-29T00:59:30Z'),
      3,
    );
    expect(show(ticks)).toEqual([
      '2026-03-29T00:59:40.000Z 2026-03-29T01:59:40+01:00',
      '2026-03-29T00:59:59.999Z 2026-03-29T02:00:00+01:00 skipped',
      '2026-03-29T01:00:00.000Z 2026-03-29T03:00:00+02:00',
    ]);
  });
  it('times outside the gap are untouched, whatever the policy', () => {
    for (const dst of [SHIFT_ONCE, SKIP_TWICE]) {
      expect(show(nextTicks(cron('30 1,3 * * *', 'Europe/Berlin', dst), before, 2))).toEqual([
        '2026-03-29T00:30:00.000Z 2026-03-29T01:30:00+01:00',
        '2026-03-29T01:30:00.000Z 2026-03-29T03:30:00+02:00',
      ]);
    }
  });
  it('resuming after a gap tick does not produce it again', () => {
    expect(nextTicks(cron('30 2 * * *', 'Europe/Berlin'), at('2026-03-29T01:00:00Z'), 1)[0]?.nominal).toBe(
      '2026-03-30T00:30:00.000Z',
    );
    // …and a walk resumed a millisecond before the gap's end still finds the shifted tick.
    expect(show(nextTicks(cron('30 2 * * *', 'Europe/Berlin'), at('2026-03-29T00:59:59.999Z'), 1))).toEqual([
      '2026-03-29T01:00:00.000Z 2026-03-29T03:00:00+02:00 shifted',
    ]);
    const skip = cron('30 2 * * *', 'Europe/Berlin', { nonexistent: 'skip' });
    expect(nextTicks(skip, at('2026-03-29T00:59:59.999Z'), 1)[0]?.nominal).toBe('2026-03-30T00:30:00.000Z');
    expect(nextTicks(skip, at('2026-03-29T00:59:59.998Z'), 1)[0]?.dst).toBe('skipped');
  });
});

describe('Europe/Berlin, fall back (2026-10-25: 03:00 CEST → 02:00 CET, 01:00Z)', () => {
  const before = at('2026-10-24T12:00:00Z');
  it('once (default): 02:30 fires at its first occurrence only', () => {
    expect(show(nextTicks(cron('30 2 * * *', 'Europe/Berlin'), before, 2))).toEqual([
      '2026-10-25T00:30:00.000Z 2026-10-25T02:30:00+02:00',
      '2026-10-26T01:30:00.000Z 2026-10-26T02:30:00+01:00',
    ]);
  });
  it('twice: 02:30 fires at both, the second marked repeated', () => {
    expect(show(nextTicks(cron('30 2 * * *', 'Europe/Berlin', { repeated: 'twice' }), before, 3))).toEqual([
      '2026-10-25T00:30:00.000Z 2026-10-25T02:30:00+02:00',
      '2026-10-25T01:30:00.000Z 2026-10-25T02:30:00+01:00 repeated',
      '2026-10-26T01:30:00.000Z 2026-10-26T02:30:00+01:00',
    ]);
  });
  it('an every-30-minutes job through the repeated hour, once and twice', () => {
    const from = at('2026-10-24T23:45:00Z');
    expect(show(nextTicks(cron('*/30 * * * *', 'Europe/Berlin'), from, 4))).toEqual([
      '2026-10-25T00:00:00.000Z 2026-10-25T02:00:00+02:00',
      '2026-10-25T00:30:00.000Z 2026-10-25T02:30:00+02:00',
      '2026-10-25T02:00:00.000Z 2026-10-25T03:00:00+01:00',
      '2026-10-25T02:30:00.000Z 2026-10-25T03:30:00+01:00',
    ]);
    expect(show(nextTicks(cron('*/30 * * * *', 'Europe/Berlin', { repeated: 'twice' }), from, 5))).toEqual([
      '2026-10-25T00:00:00.000Z 2026-10-25T02:00:00+02:00',
      '2026-10-25T00:30:00.000Z 2026-10-25T02:30:00+02:00',
      '2026-10-25T01:00:00.000Z 2026-10-25T02:00:00+01:00 repeated',
      '2026-10-25T01:30:00.000Z 2026-10-25T02:30:00+01:00 repeated',
      '2026-10-25T02:00:00.000Z 2026-10-25T03:00:00+01:00',
    ]);
  });
  it('resuming during the second pass: once waits for the next day, twice takes the repeat', () => {
    const secondPass = at('2026-10-25T01:10:00Z'); // 02:10 CET
    expect(nextTicks(cron('30 2 * * *', 'Europe/Berlin'), secondPass, 1)[0]?.nominal).toBe(
      '2026-10-26T01:30:00.000Z',
    );
    expect(
      show(nextTicks(cron('30 2 * * *', 'Europe/Berlin', { repeated: 'twice' }), secondPass, 1)),
    ).toEqual(['2026-10-25T01:30:00.000Z 2026-10-25T02:30:00+01:00 repeated']);
  });
  it('the nonexistent policy has nothing to do in the fall', () => {
    expect(nextTicks(cron('30 2 * * *', 'Europe/Berlin', { nonexistent: 'skip' }), before, 2)).toEqual(
      nextTicks(cron('30 2 * * *', 'Europe/Berlin'), before, 2),
    );
  });
});

describe('America/New_York, both transitions', () => {
  it('spring forward (2026-03-08 02:00 EST → 03:00 EDT): shift and skip', () => {
    const before = at('2026-03-07T12:00:00Z');
    expect(show(nextTicks(cron('30 2 * * *', 'America/New_York'), before, 2))).toEqual([
      '2026-03-08T07:00:00.000Z 2026-03-08T03:00:00-04:00 shifted',
      '2026-03-09T06:30:00.000Z 2026-03-09T02:30:00-04:00',
    ]);
    expect(
      show(nextTicks(cron('30 2 * * *', 'America/New_York', { nonexistent: 'skip' }), before, 2)),
    ).toEqual([
      '2026-03-08T06:59:59.999Z 2026-03-08T02:30:00-05:00 skipped',
      '2026-03-09T06:30:00.000Z 2026-03-09T02:30:00-04:00',
    ]);
  });
  it('fall back (2026-11-01 02:00 EDT → 01:00 EST): once and twice', () => {
    const before = at('2026-10-31T12:00:00Z');
    expect(show(nextTicks(cron('30 1 * * *', 'America/New_York'), before, 2))).toEqual([
      '2026-11-01T05:30:00.000Z 2026-11-01T01:30:00-04:00',
      '2026-11-02T06:30:00.000Z 2026-11-02T01:30:00-05:00',
    ]);
    expect(show(nextTicks(cron('30 1 * * *', 'America/New_York', { repeated: 'twice' }), before, 3))).toEqual(
      [
        '2026-11-01T05:30:00.000Z 2026-11-01T01:30:00-04:00',
        '2026-11-01T06:30:00.000Z 2026-11-01T01:30:00-05:00 repeated',
        '2026-11-02T06:30:00.000Z 2026-11-02T01:30:00-05:00',
      ],
    );
  });
});

describe("Australia/Lord_Howe's half-hour DST", () => {
  it('spring forward (2026-10-04 02:00 → 02:30): 02:15 shifts to 02:30, or is skipped', () => {
    const before = at('2026-10-03T00:00:00Z');
    expect(show(nextTicks(cron('15 2 * * *', 'Australia/Lord_Howe'), before, 2))).toEqual([
      '2026-10-03T15:30:00.000Z 2026-10-04T02:30:00+11:00 shifted',
      '2026-10-04T15:15:00.000Z 2026-10-05T02:15:00+11:00',
    ]);
    expect(
      show(nextTicks(cron('15 2 * * *', 'Australia/Lord_Howe', { nonexistent: 'skip' }), before, 1)),
    ).toEqual(['2026-10-03T15:29:59.999Z 2026-10-04T02:15:00+10:30 skipped']);
    // 02:45 lies after the half-hour gap: an ordinary tick.
    expect(
      show(nextTicks(cron('45 2 * * *', 'Australia/Lord_Howe', { nonexistent: 'skip' }), before, 1)),
    ).toEqual(['2026-10-03T15:45:00.000Z 2026-10-04T02:45:00+11:00']);
  });
  it('fall back (2026-04-05 02:00 → 01:30): 01:45 once or twice', () => {
    const before = at('2026-04-04T00:00:00Z');
    expect(show(nextTicks(cron('45 1 * * *', 'Australia/Lord_Howe'), before, 2))).toEqual([
      '2026-04-04T14:45:00.000Z 2026-04-05T01:45:00+11:00',
      '2026-04-05T15:15:00.000Z 2026-04-06T01:45:00+10:30',
    ]);
    expect(
      show(nextTicks(cron('45 1 * * *', 'Australia/Lord_Howe', { repeated: 'twice' }), before, 2)),
    ).toEqual([
      '2026-04-04T14:45:00.000Z 2026-04-05T01:45:00+11:00',
      '2026-04-04T15:15:00.000Z 2026-04-05T01:45:00+10:30 repeated',
    ]);
    // 01:15 is before the repeated half hour: once, whatever the policy.
    expect(
      show(nextTicks(cron('15 1 * * *', 'Australia/Lord_Howe', { repeated: 'twice' }), before, 1)),
    ).toEqual(['2026-04-04T14:15:00.000Z 2026-04-05T01:15:00+11:00']);
  });
});

describe('a whole day that never happened (Pacific/Apia skipped 2011-12-30)', () => {
  it('shift runs the lost day at the first instant of the next; skip records it', () => {
    const before = at('2011-12-29T00:00:00Z');
    expect(show(nextTicks(cron('0 12 * * *', 'Pacific/Apia'), before, 3))).toEqual([
      '2011-12-29T22:00:00.000Z 2011-12-29T12:00:00-10:00',
      '2011-12-30T10:00:00.000Z 2011-12-31T00:00:00+14:00 shifted',
      '2011-12-30T22:00:00.000Z 2011-12-31T12:00:00+14:00',
    ]);
    expect(show(nextTicks(cron('0 12 * * *', 'Pacific/Apia', { nonexistent: 'skip' }), before, 3))).toEqual([
      '2011-12-29T22:00:00.000Z 2011-12-29T12:00:00-10:00',
      '2011-12-30T09:59:59.999Z 2011-12-30T12:00:00-10:00 skipped',
      '2011-12-30T22:00:00.000Z 2011-12-31T12:00:00+14:00',
    ]);
  });
});

describe('one-off `at`', () => {
  const spec: AtSpec = { type: 'at', at: '2026-05-01T10:00:00+02:00' };
  it('is a single tick, then the schedule has ended', () => {
    expect(show(nextTicks(spec, at('2026-01-01T00:00:00Z'), 5))).toEqual([
      '2026-05-01T08:00:00.000Z 2026-05-01T08:00:00+00:00',
    ]);
    expect(isEnded(spec, at('2026-05-01T07:59:59Z'))).toBe(false);
    expect(isEnded(spec, at('2026-05-01T08:00:00Z'))).toBe(true);
  });
  it('shows local time in its zone when it has one', () => {
    expect(show(nextTicks({ ...spec, timezone: 'Asia/Tokyo' }, at('2026-01-01T00:00:00Z'), 1))).toEqual([
      '2026-05-01T08:00:00.000Z 2026-05-01T17:00:00+09:00',
    ]);
  });
  it('outside start_at / end_at it never fires', () => {
    expect(nextTicks({ ...spec, end_at: '2026-04-30T00:00:00Z' }, at('2026-01-01T00:00:00Z'), 1)).toEqual([]);
    expect(nextTicks({ ...spec, start_at: '2026-06-01T00:00:00Z' }, at('2026-01-01T00:00:00Z'), 1)).toEqual(
      [],
    );
    expect(
      nextTicks({ ...spec, end_at: '2026-05-01T08:00:00Z' }, at('2026-01-01T00:00:00Z'), 1),
    ).toHaveLength(1);
  });
});

describe('start_at, end_at and anchor on cron schedules', () => {
  const hourly = (more: Partial<CronSpec>) => cron('0 * * * *', 'UTC', undefined, more);
  it('no tick before start_at; one exactly at it fires', () => {
    const spec = hourly({ start_at: '2026-01-01T03:00:00Z' });
    expect(nextTicks(spec, at('2026-01-01T00:00:00Z'), 2).map((t) => t.nominal)).toEqual([
      '2026-01-01T03:00:00.000Z',
      '2026-01-01T04:00:00.000Z',
    ]);
  });
  it('no tick after end_at; one exactly at it fires; then ended', () => {
    const spec = hourly({ end_at: '2026-01-01T03:00:00Z' });
    expect(nextTicks(spec, at('2026-01-01T01:30:00Z'), 5).map((t) => t.nominal)).toEqual([
      '2026-01-01T02:00:00.000Z',
      '2026-01-01T03:00:00.000Z',
    ]);
    expect(isEnded(spec, at('2026-01-01T02:59:59Z'))).toBe(false);
    expect(isEnded(spec, at('2026-01-01T03:00:00Z'))).toBe(true);
  });
  it('an end_at before the next match ends a sparse schedule at once', () => {
    const spec = cron('0 12 29 2 *', 'UTC', undefined, { end_at: '2027-12-31T00:00:00Z' });
    expect(isEnded(spec, at('2026-01-01T00:00:00Z'))).toBe(true);
  });
  it('no tick at or before the anchor', () => {
    const spec = hourly({ anchor: '2026-01-01T03:00:00Z' });
    expect(nextTicks(spec, at('2026-01-01T00:00:00Z'), 1)[0]?.nominal).toBe('2026-01-01T04:00:00.000Z');
  });
  it('end_at counts a DST tick by the instant it has', () => {
    const spec = cron(
      '30 2 * * *',
      'Europe/Berlin',
      { nonexistent: 'skip' },
      { end_at: '2026-03-29T01:00:00Z' },
    );
    expect(show(nextTicks(spec, at('2026-03-28T12:00:00Z'), 5))).toEqual([
      '2026-03-29T00:59:59.999Z 2026-03-29T02:30:00+01:00 skipped',
    ]);
    const shifted = cron('30 2 * * *', 'Europe/Berlin', undefined, { end_at: '2026-03-29T00:59:59Z' });
    expect(nextTicks(shifted, at('2026-03-28T12:00:00Z'), 5)).toEqual([]);
  });
});

describe('ticksBetween', () => {
  const spec = cron('*/15 * * * *', 'UTC');
  it('takes the ticks in (after, until], at most max', () => {
    const ticks = ticksBetween(spec, at('2026-01-01T00:00:00Z'), at('2026-01-01T01:00:00Z'), 100);
    expect(ticks.map((t) => t.nominal)).toEqual([
      '2026-01-01T00:15:00.000Z',
      '2026-01-01T00:30:00.000Z',
      '2026-01-01T00:45:00.000Z',
      '2026-01-01T01:00:00.000Z',
    ]);
    expect(ticksBetween(spec, at('2026-01-01T00:00:00Z'), at('2026-01-01T01:00:00Z'), 2)).toHaveLength(2);
    expect(ticksBetween(spec, at('2026-01-01T00:00:00Z'), at('2026-01-01T00:14:59Z'), 100)).toEqual([]);
    expect(ticksBetween(spec, at('2026-01-01T00:00:00Z'), at('2026-01-01T01:00:00Z'), 0)).toEqual([]);
  });
  it('nextTicks with a count of zero is empty; an invalid Date is refused', () => {
    expect(nextTicks(spec, at('2026-01-01T00:00:00Z'), 0)).toEqual([]);
    expect(() => nextTicks(spec, new Date(Number.NaN), 1)).toThrow(RangeError);
  });
});

/** Specs and windows around every 2026 transition of the DST zones, in every policy. */
function dstCases(): { spec: ScheduleSpec; from: Date; until: Date }[] {
  const zones: [string, string[]][] = [
    ['Europe/Berlin', ['2026-03-29T01:00:00Z', '2026-10-25T01:00:00Z']],
    ['America/New_York', ['2026-03-08T07:00:00Z', '2026-11-01T06:00:00Z']],
    ['Australia/Lord_Howe', ['2026-04-04T15:00:00Z', '2026-10-03T15:30:00Z']],
    ['Asia/Tokyo', ['2026-03-29T01:00:00Z']],
  ];
  const patterns = [
    '30 2 * * *',
    '0 * * * *',
    '*/20 * * * *',
    '15,45 1,2 * * *',
    '0 */30 1-3 * * *',
    '0 0 * * *',
  ];
  const policies: DstPolicy[] = [
    SHIFT_ONCE,
    SKIP_TWICE,
    { nonexistent: 'shift', repeated: 'twice' },
    { nonexistent: 'skip', repeated: 'once' },
  ];
  const cases = [];
  for (const [zone, transitions] of zones) {
    for (const t of transitions) {
      for (const pattern of patterns) {
        for (const dst of policies) {
          const ms = Date.parse(t);
          cases.push({
            spec: cron(pattern, zone, dst),
            from: new Date(ms - 6 * 3_600_000),
            until: new Date(ms + 30 * 3_600_000),
          });
        }
      }
    }
  }
  return cases;
}

describe('invariants, around every 2026 transition, in every policy', () => {
  const cases = dstCases();
  it('ticks strictly increase, and nominal is `at` in ISO form, so unique', () => {
    for (const { spec, from, until } of cases) {
      const ticks = ticksBetween(spec, from, until, 10_000);
      expect(ticks.length).toBeGreaterThan(0);
      for (const [i, tick] of ticks.entries()) {
        expect(tick.nominal).toBe(tick.at.toISOString());
        if (i > 0) expect(tick.at.getTime()).toBeGreaterThan(ticks[i - 1]!.at.getTime());
      }
    }
  });
  it('the same ticks come out wherever the walk starts (a resumed scheduler agrees with itself)', () => {
    for (const { spec, from, until } of cases) {
      const all = ticksBetween(spec, from, until, 10_000);
      const stride = Math.max(1, Math.floor(all.length / 30));
      for (const [i, tick] of all.entries()) {
        // Every DST tick and its neighbours, and a sample of the others.
        const nearDst = [all[i - 1], tick, all[i + 1]].some((t) => t !== undefined && t.dst !== null);
        if (!nearDst && i % stride !== 0) continue;
        const following = all.slice(i + 1, i + 4);
        expect(nextTicks(spec, tick.at, following.length)).toEqual(following);
        const fromJustBefore = all.slice(i, i + 3);
        expect(nextTicks(spec, new Date(tick.at.getTime() - 1), fromJustBefore.length)).toEqual(
          fromJustBefore,
        );
      }
    }
  });
  it('local agrees with at and dst with the zone: checked against zonedWallTimeToInstants', () => {
    for (const { spec, from, until } of cases) {
      if (spec.type !== 'cron') continue;
      for (const tick of ticksBetween(spec, from, until, 10_000)) {
        const m = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})/.exec(tick.local)!;
        const [y, mo, d, h, mi, s] = m.slice(1).map(Number) as [
          number,
          number,
          number,
          number,
          number,
          number,
        ];
        const instants = zonedWallTimeToInstants(spec.timezone, y, mo, d, h, mi, s).map((x) => x.getTime());
        const t = tick.at.getTime();
        switch (tick.dst) {
          case null:
            expect(tick.local).toBe(formatInZone(spec.timezone, t));
            expect(instants[0]).toBe(t);
            break;
          case 'repeated':
            expect(spec.dst?.repeated).toBe('twice');
            expect(tick.local).toBe(formatInZone(spec.timezone, t));
            expect(instants).toEqual([instants[0], t]);
            break;
          case 'shifted':
            expect(spec.dst?.nonexistent ?? 'shift').toBe('shift');
            expect(tick.local).toBe(formatInZone(spec.timezone, t));
            expect(zonedWallTimeToInstants(spec.timezone, y, mo, d, h, mi, s)).toHaveLength(1);
            break;
          case 'skipped':
            expect(spec.dst?.nonexistent).toBe('skip');
            expect(instants).toEqual([]);
            expect(formatInZone(spec.timezone, t + 1)).not.toBe(
              formatInZone(spec.timezone, t).replace(/\.999/, ''),
            );
            break;
        }
      }
    }
  });
  it('ticksAfter is lazy: an unbounded schedule yields as many as asked', () => {
    const iterator = ticksAfter(cron('* * * * * *', 'UTC'), at('2026-01-01T00:00:00Z'));
    for (let i = 0; i < 5; i++) expect(iterator.next().done).toBe(false);
  });
});

describe('the end_reached marker (endTick)', () => {
  it('is the first tick the schedule would have had after end_at', () => {
    const spec: IntervalSpec = {
      type: 'interval',
      minutes: 60,
      anchor: '2026-03-01T10:00:00Z',
      end_at: '2026-03-01T12:30:00Z',
    };
    expect(endTick(spec)?.nominal).toBe('2026-03-01T13:00:00.000Z');
    // A tick exactly at end_at fires, so the marker is the one after it.
    expect(endTick({ ...spec, end_at: '2026-03-01T12:00:00Z' })?.nominal).toBe('2026-03-01T13:00:00.000Z');
    expect(endTick(cron('0 9 * * 1', 'UTC', undefined, { end_at: '2026-03-04T00:00:00Z' }))?.nominal).toBe(
      '2026-03-09T09:00:00.000Z',
    );
  });
  it('does not exist without end_at, or for a one-off due before its end', () => {
    expect(endTick({ type: 'interval', minutes: 5 })).toBeNull();
    expect(endTick({ type: 'at', at: '2026-05-01T08:00:00Z' })).toBeNull();
    expect(endTick({ type: 'at', at: '2026-05-01T08:00:00Z', end_at: '2026-06-01T00:00:00Z' })).toBeNull();
  });
  it('is the one-off tick itself when end_at comes before it', () => {
    expect(endTick({ type: 'at', at: '2026-05-01T08:00:00Z', end_at: '2026-04-01T00:00:00Z' })?.nominal).toBe(
      '2026-05-01T08:00:00.000Z',
    );
  });
  it('is not before the workflow existed (an end_at already past at creation)', () => {
    const spec: IntervalSpec = {
      type: 'interval',
      minutes: 10,
      anchor: '2026-03-01T10:00:00Z',
      end_at: '2026-02-01T00:00:00Z',
    };
    expect(endTick(spec)?.nominal).toBe('2026-03-01T10:10:00.000Z');
  });
  it('passes over a time in a DST gap under skip: that one would not have fired either', () => {
    const spec = cron('30 2 * * *', 'Europe/Berlin', SKIP_TWICE, { end_at: '2026-03-28T12:00:00Z' });
    expect(show([endTick(spec)!])).toEqual(['2026-03-30T00:30:00.000Z 2026-03-30T02:30:00+02:00']);
  });
});

describe('jitterProblem', () => {
  const from = new Date('2026-12-06T00:00:00Z');
  it('accepts jitter up to the shortest gap between ticks', () => {
    expect(jitterProblem({ type: 'interval', minutes: 5, jitter_seconds: 300 }, from)).toBeUndefined();
    expect(
      jitterProblem({ type: 'cron', cron: '*/10 * * * * *', timezone: 'UTC', jitter_seconds: 10 }, from),
    ).toBeUndefined();
    expect(jitterProblem({ type: 'interval', minutes: 5 }, from)).toBeUndefined();
  });
  it('refuses more, naming the gap, and any on a one-off', () => {
    expect(jitterProblem({ type: 'interval', minutes: 5, jitter_seconds: 301 }, from)).toContain('(300 s)');
    // 09:00 and 10:00 each day: the shortest gap is one hour, not the 23 between the days.
    expect(
      jitterProblem(
        { type: 'cron', cron: '0 9,10 * * *', timezone: 'Europe/Berlin', jitter_seconds: 3601 },
        from,
      ),
    ).toContain('(3600 s)');
    expect(jitterProblem({ type: 'at', at: '2026-12-07T00:00:00Z', jitter_seconds: 1 }, from)).toContain(
      'one-off',
    );
  });
  it('keeps jittered ticks in nominal order', () => {
    const spec = {
      type: 'cron',
      cron: '*/2 * * * * *',
      timezone: 'UTC',
      jitter_seconds: 2,
      jitter_key: 'wf',
    } as const;
    const ticks = nextTicks(spec, from, 500);
    expect(ticks.every((t, i) => i === 0 || t.at.getTime() > ticks[i - 1]!.at.getTime())).toBe(true);
    expect(ticks.every((t) => t.at.getTime() - Date.parse(t.nominal) < 2000)).toBe(true);
  });
});
