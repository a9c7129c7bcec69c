import { describe, expect, it } from 'vitest';
import { type CatchUpPlan, newestFireable, planCatchUp } from './catch-up.ts';
import type { Tick } from './due-times.ts';
import type { CronSpec, ScheduleSpec } from './schedule.ts';

const at = (text: string) => new Date(text);
const times = (ticks: Tick[]) => ticks.map((t) => t.nominal.slice(11, 19));
const summary = (plan: CatchUpPlan) => ({
  fire: times(plan.fire),
  missed: times(plan.missed),
  complete: plan.complete,
});
const MIN = 60_000;

// Every 10 minutes; the last decided tick was 10:00 and the scheduler is back at 10:45.
const every10: CronSpec = { type: 'cron', cron: '*/10 * * * *', timezone: 'UTC' };
const last = at('2026-05-01T10:00:00Z');
const now = at('2026-05-01T10:45:00Z');

describe('planCatchUp policies', () => {
  it('latest: the newest due tick fires, the others are missed', () => {
    expect(summary(planCatchUp(every10, last, now, 'latest', 0, 10))).toEqual({
      fire: ['10:40:00'],
      missed: ['10:10:00', '10:20:00', '10:30:00'],
      complete: true,
    });
  });
  it('all: the ticks within the window fire, older ones are missed', () => {
    expect(summary(planCatchUp(every10, last, now, 'all', 25 * MIN, 10))).toEqual({
      fire: ['10:20:00', '10:30:00', '10:40:00'],
      missed: ['10:10:00'],
      complete: true,
    });
  });
  it('all: the window is inclusive (a tick exactly windowMs old fires)', () => {
    expect(summary(planCatchUp(every10, last, now, 'all', 35 * MIN, 10)).fire).toEqual([
      '10:10:00',
      '10:20:00',
      '10:30:00',
      '10:40:00',
    ]);
    expect(summary(planCatchUp(every10, last, now, 'all', 35 * MIN - 1, 10)).fire).toEqual([
      '10:20:00',
      '10:30:00',
      '10:40:00',
    ]);
  });
  it('all: capped by max, the newest fire and the rest of the window is missed', () => {
    expect(summary(planCatchUp(every10, last, now, 'all', 60 * MIN, 2))).toEqual({
      fire: ['10:30:00', '10:40:00'],
      missed: ['10:10:00', '10:20:00'],
      complete: true,
    });
  });
  it('all: an unbounded window fires everything due', () => {
    expect(summary(planCatchUp(every10, last, now, 'all', Number.POSITIVE_INFINITY, 100)).fire).toHaveLength(
      4,
    );
  });
  it('none: every due tick is missed', () => {
    expect(summary(planCatchUp(every10, last, now, 'none', 60 * MIN, 10))).toEqual({
      fire: [],
      missed: ['10:10:00', '10:20:00', '10:30:00', '10:40:00'],
      complete: true,
    });
  });
  it('max 0 fires nothing, even under latest', () => {
    expect(summary(planCatchUp(every10, last, now, 'latest', 0, 0)).fire).toEqual([]);
  });
});

describe('planCatchUp boundaries', () => {
  it('a tick exactly at now is due; one after it is not', () => {
    expect(summary(planCatchUp(every10, last, at('2026-05-01T10:40:00Z'), 'latest', 0, 1)).fire).toEqual([
      '10:40:00',
    ]);
    expect(summary(planCatchUp(every10, last, at('2026-05-01T10:39:59.999Z'), 'latest', 0, 1)).fire).toEqual([
      '10:30:00',
    ]);
  });
  it('the last decided tick itself is never planned again', () => {
    expect(summary(planCatchUp(every10, at('2026-05-01T10:40:00Z'), now, 'all', 60 * MIN, 10))).toEqual({
      fire: [],
      missed: [],
      complete: true,
    });
  });
  it('nothing is due when the last tick is at or after now', () => {
    expect(planCatchUp(every10, now, now, 'latest', 0, 1)).toEqual({ fire: [], missed: [], complete: true });
    expect(planCatchUp(every10, at('2026-05-01T11:00:00Z'), now, 'latest', 0, 1).fire).toEqual([]);
  });
  it('with no tick decided yet, counting starts at start_at (inclusive) or after the anchor', () => {
    const fromStart: ScheduleSpec = { ...every10, start_at: '2026-05-01T10:20:00Z' };
    expect(summary(planCatchUp(fromStart, null, now, 'none', 0, 1)).missed).toEqual([
      '10:20:00',
      '10:30:00',
      '10:40:00',
    ]);
    const fromAnchor: ScheduleSpec = { ...every10, anchor: '2026-05-01T10:20:00Z' };
    expect(summary(planCatchUp(fromAnchor, null, now, 'none', 0, 1)).missed).toEqual([
      '10:30:00',
      '10:40:00',
    ]);
  });
  it('with no tick decided and neither start_at nor anchor, there is nothing to catch up', () => {
    expect(planCatchUp(every10, null, now, 'all', 60 * MIN, 10)).toEqual({
      fire: [],
      missed: [],
      complete: true,
    });
  });
  it('no tick after end_at is due', () => {
    const ended: ScheduleSpec = { ...every10, end_at: '2026-05-01T10:25:00Z' };
    expect(summary(planCatchUp(ended, last, now, 'latest', 0, 1))).toEqual({
      fire: ['10:20:00'],
      missed: ['10:10:00'],
      complete: true,
    });
  });
  it('interval schedules catch up on their own grid', () => {
    const spec: ScheduleSpec = { type: 'interval', minutes: 15, anchor: '2026-05-01T09:05:00Z' };
    expect(summary(planCatchUp(spec, null, now, 'latest', 0, 1))).toEqual({
      fire: ['10:35:00'],
      missed: ['09:20:00', '09:35:00', '09:50:00', '10:05:00', '10:20:00'],
      complete: true,
    });
  });
  it('a one-off `at` missed during downtime follows the policy too', () => {
    const once: ScheduleSpec = { type: 'at', at: '2026-05-01T10:12:00Z' };
    expect(summary(planCatchUp(once, null, now, 'latest', 0, 1)).fire).toEqual([]);
    expect(summary(planCatchUp(once, last, now, 'latest', 0, 1)).fire).toEqual(['10:12:00']);
    expect(summary(planCatchUp(once, last, now, 'all', 5 * MIN, 1)).missed).toEqual(['10:12:00']);
  });
});

describe('planCatchUp and DST', () => {
  // 02:30 does not exist in Berlin on 2026-03-29; under `skip` its tick is recorded, never fired.
  const skip: CronSpec = {
    type: 'cron',
    cron: '30 2 * * *',
    timezone: 'Europe/Berlin',
    dst: { nonexistent: 'skip' },
  };
  it('a DST-skipped tick never fires: latest fires the newest tick that can', () => {
    const plan = planCatchUp(skip, at('2026-03-27T00:00:00Z'), at('2026-03-29T06:00:00Z'), 'latest', 0, 1);
    expect(plan.fire.map((t) => t.nominal)).toEqual(['2026-03-28T01:30:00.000Z']);
    expect(plan.missed.map((t) => `${t.nominal} ${t.dst}`)).toEqual([
      '2026-03-27T01:30:00.000Z null',
      '2026-03-29T00:59:59.999Z skipped',
    ]);
  });
  it('fire and missed together hold every due tick exactly once', () => {
    const plan = planCatchUp(
      skip,
      at('2026-03-20T00:00:00Z'),
      at('2026-04-02T00:00:00Z'),
      'all',
      3 * 86_400_000,
      10,
    );
    const nominals = [...plan.fire, ...plan.missed].map((t) => t.nominal).sort();
    expect(new Set(nominals).size).toBe(nominals.length);
    expect(nominals).toHaveLength(13);
    expect(plan.fire.map((t) => t.nominal)).toEqual([
      '2026-03-30T00:30:00.000Z',
      '2026-03-31T00:30:00.000Z',
      '2026-04-01T00:30:00.000Z',
    ]);
  });
  it('shifted and repeated ticks fire like any other', () => {
    const twice: CronSpec = {
      type: 'cron',
      cron: '30 2 * * *',
      timezone: 'Europe/Berlin',
      dst: { repeated: 'twice' },
    };
    const plan = planCatchUp(twice, at('2026-10-24T12:00:00Z'), at('2026-10-25T01:45:00Z'), 'latest', 0, 1);
    expect(plan.fire.map((t) => `${t.nominal} ${t.dst}`)).toEqual(['2026-10-25T01:30:00.000Z repeated']);
    expect(plan.missed.map((t) => t.nominal)).toEqual(['2026-10-25T00:30:00.000Z']);
  });
});

describe('planCatchUp after a long outage', () => {
  const everySecond: CronSpec = { type: 'cron', cron: '* * * * * *', timezone: 'UTC' };
  it('pages the missed ticks, holding the fire back until the last page', () => {
    const seen: string[] = [];
    const fired: string[] = [];
    let cursor: Date = at('2026-05-01T10:00:00Z');
    const back = at('2026-05-01T10:00:30Z');
    for (let pages = 1; ; pages++) {
      const plan = planCatchUp(everySecond, cursor, back, 'latest', 0, 1, 10);
      seen.push(...plan.missed.map((t) => t.nominal), ...plan.fire.map((t) => t.nominal));
      fired.push(...plan.fire.map((t) => t.nominal));
      if (plan.complete) {
        expect(pages).toBe(3);
        break;
      }
      expect(plan.fire).toEqual([]);
      expect(plan.missed).toHaveLength(10);
      cursor = plan.missed.at(-1)!.at;
    }
    expect(fired).toEqual(['2026-05-01T10:00:30.000Z']);
    expect(seen).toHaveLength(30);
    expect(new Set(seen).size).toBe(30);
  });
  it('stays bounded: a day of per-second ticks gives one page of missed ticks quickly', () => {
    const started = performance.now();
    const plan = planCatchUp(
      everySecond,
      at('2026-05-01T00:00:00Z'),
      at('2026-05-02T00:00:00Z'),
      'latest',
      0,
      1,
      1000,
    );
    expect(plan.complete).toBe(false);
    expect(plan.missed).toHaveLength(1000);
    expect(plan.missed[0]?.nominal).toBe('2026-05-01T00:00:01.000Z');
    expect(performance.now() - started).toBeLessThan(2000);
  });
  it('finds the newest tick of a sparse schedule after years, without walking every tick', () => {
    const leap: CronSpec = { type: 'cron', cron: '0 12 29 2 *', timezone: 'Europe/Berlin' };
    const plan = planCatchUp(leap, at('2019-01-01T00:00:00Z'), at('2031-01-01T00:00:00Z'), 'latest', 0, 1);
    expect(plan.fire.map((t) => t.nominal)).toEqual(['2028-02-29T11:00:00.000Z']);
    expect(plan.missed.map((t) => t.nominal)).toEqual([
      '2020-02-29T11:00:00.000Z',
      '2024-02-29T11:00:00.000Z',
    ]);
  });
});

describe('newestFireable', () => {
  it('gives the newest n ticks in (lower, until], ascending', () => {
    const ticks = newestFireable(every10, last.getTime(), now.getTime(), 2);
    expect(times(ticks)).toEqual(['10:30:00', '10:40:00']);
    expect(newestFireable(every10, last.getTime(), now.getTime(), 0)).toEqual([]);
    expect(times(newestFireable(every10, last.getTime(), now.getTime(), 99))).toEqual([
      '10:10:00',
      '10:20:00',
      '10:30:00',
      '10:40:00',
    ]);
  });
});
