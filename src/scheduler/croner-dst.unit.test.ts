// croner's own DST handling (11.x), checked rather than trusted. croner decides by the pattern's
// shape: "fixed-time" patterns (one value in each of second, minute, hour) shift out of a gap and
// run once in an overlap; any other pattern drops gap times without trace and runs overlap times
// twice. A workflow's DST policy is its own setting, so cron-ticks.ts uses croner on wall time only
// (in UTC) and applies the policy itself. These tests pin both: where croner's rule coincides with a
// policy the two agree tick for tick; where it does not, they show what croner does and what we do.
import { Cron } from 'croner';
import { describe, expect, it } from 'vitest';
import { nextTicks, ticksBetween } from './due-times.ts';
import type { CronSpec, DstPolicy } from './schedule.ts';

const native = (pattern: string, zone: string, from: string, until: string): string[] => {
  const cron = new Cron(pattern, { timezone: zone, paused: true });
  const runs: string[] = [];
  let previous = new Date(from);
  for (;;) {
    const next = cron.nextRun(previous);
    if (next === null || next > new Date(until)) return runs;
    runs.push(next.toISOString());
    previous = next;
  }
};
const ours = (pattern: string, zone: string, dst: DstPolicy, from: string, until: string) => {
  const spec: CronSpec = { type: 'cron', cron: pattern, timezone: zone, dst };
  return ticksBetween(spec, new Date(from), new Date(until), 10_000);
};
const nominals = (ticks: { nominal: string }[]) => ticks.map((t) => t.nominal);

describe("croner's rule and ours agree where they coincide", () => {
  const windows: [string, string, string][] = [
    ['Europe/Berlin', '2026-03-28T20:00:00Z', '2026-03-30T06:00:00Z'],
    ['Europe/Berlin', '2026-10-24T20:00:00Z', '2026-10-26T06:00:00Z'],
    ['America/New_York', '2026-03-08T00:00:00Z', '2026-03-09T12:00:00Z'],
    ['America/New_York', '2026-10-31T20:00:00Z', '2026-11-02T12:00:00Z'],
    ['Australia/Lord_Howe', '2026-04-04T08:00:00Z', '2026-04-05T20:00:00Z'],
    ['Australia/Lord_Howe', '2026-10-03T08:00:00Z', '2026-10-04T20:00:00Z'],
    ['America/Santiago', '2026-09-05T20:00:00Z', '2026-09-07T12:00:00Z'], // a midnight spring forward
  ];
  it('fixed-time patterns: croner = shift + once', () => {
    for (const [zone, from, until] of windows) {
      for (const pattern of ['30 2 * * *', '0 2 * * *', '45 1 * * *', '0 0 * * *', '15 30 1 * * *']) {
        const mine = nominals(ours(pattern, zone, { nonexistent: 'shift', repeated: 'once' }, from, until));
        expect(mine, `${pattern} in ${zone}`).toEqual(native(pattern, zone, from, until));
      }
    }
  });
  it('other patterns: croner = skip (without the record) + twice', () => {
    for (const [zone, from, until] of windows) {
      for (const pattern of ['*/30 * * * *', '0 * * * *', '15,45 1,2 * * *', '*/30 * 2 * * *']) {
        const mine = ours(pattern, zone, { nonexistent: 'skip', repeated: 'twice' }, from, until);
        const fired = nominals(mine.filter((t) => t.dst !== 'skipped'));
        expect(fired, `${pattern} in ${zone}`).toEqual(native(pattern, zone, from, until));
      }
    }
  });
});

describe('where croner alone would not do what the workflow asks', () => {
  const berlinSpring = ['2026-03-28T12:00:00Z', '2026-03-29T23:00:00Z'] as const;
  const berlinFall = ['2026-10-24T22:00:00Z', '2026-10-25T03:00:00Z'] as const;

  it('a list pattern (30 2,14) loses 02:30 in the gap without trace; shift runs it at 03:00', () => {
    expect(native('30 2,14 * * *', 'Europe/Berlin', ...berlinSpring)).toEqual([
      '2026-03-28T13:30:00.000Z',
      '2026-03-29T12:30:00.000Z',
    ]);
    const mine = nextTicks(
      { type: 'cron', cron: '30 2,14 * * *', timezone: 'Europe/Berlin' },
      new Date(berlinSpring[0]),
      3,
    );
    expect(mine.map((t) => `${t.nominal} ${t.dst}`)).toEqual([
      '2026-03-28T13:30:00.000Z null',
      '2026-03-29T01:00:00.000Z shifted',
      '2026-03-29T12:30:00.000Z null',
    ]);
  });
  it('a fixed-time pattern always runs after the gap; skip records it instead', () => {
    expect(native('30 2 * * *', 'Europe/Berlin', ...berlinSpring)).toEqual(['2026-03-29T01:00:00.000Z']);
    const mine = ours(
      '30 2 * * *',
      'Europe/Berlin',
      { nonexistent: 'skip', repeated: 'once' },
      ...berlinSpring,
    );
    expect(mine.map((t) => `${t.nominal} ${t.dst}`)).toEqual(['2026-03-29T00:59:59.999Z skipped']);
  });
  it('an every-30-minutes pattern runs the repeated hour twice; the default (once) does not', () => {
    expect(native('*/30 * * * *', 'Europe/Berlin', ...berlinFall)).toHaveLength(10);
    const mine = ours(
      '*/30 * * * *',
      'Europe/Berlin',
      { nonexistent: 'shift', repeated: 'once' },
      ...berlinFall,
    );
    expect(nominals(mine)).toEqual([
      '2026-10-24T22:30:00.000Z',
      '2026-10-24T23:00:00.000Z',
      '2026-10-24T23:30:00.000Z',
      '2026-10-25T00:00:00.000Z',
      '2026-10-25T00:30:00.000Z',
      '2026-10-25T02:00:00.000Z',
      '2026-10-25T02:30:00.000Z',
      '2026-10-25T03:00:00.000Z',
    ]);
  });
  it('a fixed-time pattern runs the repeated 02:30 once; twice runs it again, marked', () => {
    expect(native('30 2 * * *', 'Europe/Berlin', ...berlinFall)).toEqual(['2026-10-25T00:30:00.000Z']);
    const mine = ours(
      '30 2 * * *',
      'Europe/Berlin',
      { nonexistent: 'shift', repeated: 'twice' },
      ...berlinFall,
    );
    expect(mine.map((t) => `${t.nominal} ${t.dst}`)).toEqual([
      '2026-10-25T00:30:00.000Z null',
      '2026-10-25T01:30:00.000Z repeated',
    ]);
  });
  it('a day that never happened (Samoa, 2011-12-30) loses its run; shift keeps it', () => {
    // croner shifts a fixed-time job "on the same day", and that day does not exist.
    expect(native('0 12 * * *', 'Pacific/Apia', '2011-12-29T00:00:00Z', '2011-12-31T00:00:00Z')).toEqual([
      '2011-12-29T22:00:00.000Z',
      '2011-12-30T22:00:00.000Z',
    ]);
    const mine = ours(
      '0 12 * * *',
      'Pacific/Apia',
      { nonexistent: 'shift', repeated: 'once' },
      '2011-12-29T00:00:00Z',
      '2011-12-31T00:00:00Z',
    );
    expect(mine.map((t) => `${t.nominal} ${t.dst}`)).toEqual([
      '2011-12-29T22:00:00.000Z null',
      '2011-12-30T10:00:00.000Z shifted',
      '2011-12-30T22:00:00.000Z null',
    ]);
  });
  it('croner never says which runs DST moved; our ticks do', () => {
    const mine = ours(
      '30 2 * * *',
      'Europe/Berlin',
      { nonexistent: 'shift', repeated: 'once' },
      ...berlinSpring,
    );
    expect(mine.map((t) => t.dst)).toEqual(['shifted']);
  });
});
