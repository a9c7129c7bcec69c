import { describe, expect, it } from 'vitest';
import type { Tick } from './due-times.ts';
import type { IntervalSpec } from './schedule.ts';
import { type DueTick, planTicks, planWhilePaused, ticksToDecide } from './tick-plan.ts';

const at = (s: number, dst: Tick['dst'] = null): Tick => ({
  at: new Date(s * 1000),
  nominal: new Date(s * 1000).toISOString(),
  local: '',
  dst,
});
const NOW = 100 * 1000;
const GRACE = 10 * 1000;
const actions = (
  ticks: Tick[],
  policy: 'latest' | 'all' | 'none',
  options: { windowMs?: number; more?: boolean } = {},
) => planTicks(ticks, NOW, GRACE, policy, options).map((p) => p.action);

describe('planning due ticks', () => {
  // 50, 60, 70, 80 are past the grace (late); 95 is within it; 101 is ahead (lookahead).
  const ticks = [at(50), at(60), at(70), at(80), at(95), at(101)];

  it('latest: the newest late tick fires, older late ones are missed, the rest fire', () => {
    expect(actions(ticks, 'latest')).toEqual(['missed', 'missed', 'missed', 'fire', 'fire', 'fire']);
  });
  it('all: every tick fires', () => {
    expect(actions(ticks, 'all')).toEqual(['fire', 'fire', 'fire', 'fire', 'fire', 'fire']);
  });
  it('none: every late tick is missed', () => {
    expect(actions(ticks, 'none')).toEqual(['missed', 'missed', 'missed', 'missed', 'fire', 'fire']);
  });
  it('a tick in a DST gap under the skip policy is recorded, never fired', () => {
    expect(actions([at(95, 'skipped'), at(96)], 'latest')).toEqual(['dst_skipped', 'fire']);
  });
  it('all: only within its window; older late ticks are missed', () => {
    expect(actions(ticks, 'all', { windowMs: 35_000 })).toEqual([
      'missed',
      'missed',
      'fire',
      'fire',
      'fire',
      'fire',
    ]);
  });
  it('latest over several pages: nothing late fires until the last page', () => {
    expect(actions([at(50), at(60)], 'latest', { more: true })).toEqual(['missed', 'missed']);
    expect(actions([at(70), at(80)], 'latest', { more: false })).toEqual(['missed', 'fire']);
  });
  it('latest never fires a DST-skipped tick, even the newest late one', () => {
    expect(actions([at(50), at(60, 'skipped')], 'latest')).toEqual(['fire', 'dst_skipped']);
  });
  it('nothing late: everything fires whatever the policy', () => {
    expect(actions([at(95), at(99)], 'none')).toEqual(['fire', 'fire']);
  });
});

describe('the end marker', () => {
  const end = (s: number): DueTick => ({ ...at(s), end: true });
  it('is recorded as end_reached, however late, and never counts as the newest late tick', () => {
    expect(actions([at(50), at(60), end(70)], 'latest')).toEqual(['missed', 'fire', 'end_reached']);
    expect(actions([at(95), end(99)], 'all')).toEqual(['fire', 'end_reached']);
  });
  it('follows the last tick of the schedule when it is in range', () => {
    const spec: IntervalSpec = {
      type: 'interval',
      minutes: 1,
      anchor: '2026-03-01T10:00:00Z',
      end_at: '2026-03-01T10:02:30Z',
    };
    const endTick = { ...at(0), at: new Date('2026-03-01T10:03:00Z'), nominal: '2026-03-01T10:03:00.000Z' };
    const decide = (after: string, until: string, max = 10) =>
      ticksToDecide(spec, endTick, new Date(after), new Date(until), max).map(
        (t) => `${t.nominal.slice(11, 16)}${t.end ? ' end' : ''}`,
      );
    expect(decide('2026-03-01T10:00:00Z', '2026-03-01T10:10:00Z')).toEqual(['10:01', '10:02', '10:03 end']);
    // Not yet in range; on a full page it waits for the next one; once decided, never again.
    expect(decide('2026-03-01T10:00:00Z', '2026-03-01T10:02:59Z')).toEqual(['10:01', '10:02']);
    expect(decide('2026-03-01T10:00:00Z', '2026-03-01T10:10:00Z', 2)).toEqual(['10:01', '10:02']);
    expect(decide('2026-03-01T10:03:00Z', '2026-03-01T11:00:00Z')).toEqual([]);
  });
});

describe('planning the ticks of a paused workflow', () => {
  // Due at 50, 60, 70, 80, 95 (no grace while paused: all of them are late); 101 and 110 are ahead.
  const ticks = [at(50), at(60), at(70), at(80), at(95), at(101), at(110)];
  const paused = (policy: 'latest' | 'all' | 'none', options: { windowMs?: number; more?: boolean } = {}) => {
    const { record, recheckAt } = planWhilePaused(ticks, NOW, policy, { ...options, horizon: 120_000 });
    return { record: record.map((r) => `${r.tick.at.getTime() / 1000} ${r.reason}`), recheckAt };
  };

  it('latest: holds the newest due tick for the resume, records the older ones as paused', () => {
    expect(paused('latest').record).toEqual(['50 paused', '60 paused', '70 paused', '80 paused']);
  });
  it('none: records every due tick as paused; nothing is decided ahead', () => {
    expect(paused('none').record).toEqual(['50 paused', '60 paused', '70 paused', '80 paused', '95 paused']);
  });
  it('all: holds the due ticks within the window, records the older ones as paused', () => {
    expect(paused('all', { windowMs: 35_000 }).record).toEqual(['50 paused', '60 paused']);
    expect(paused('all').record).toEqual([]);
  });
  it('records DST-skipped ticks and the end marker in order, never past a held tick', () => {
    const ended = [at(50, 'skipped'), at(60), { ...at(70), end: true }];
    const reasons = (policy: 'latest' | 'none') =>
      planWhilePaused(ended, NOW, policy, { horizon: 120_000 }).record.map((r) => r.reason);
    expect(reasons('none')).toEqual(['dst_skipped', 'paused', 'end_reached']);
    // latest holds the schedule's last tick (resuming fires it), and the marker waits behind it.
    expect(reasons('latest')).toEqual(['dst_skipped']);
    const held = planWhilePaused([at(60), at(70), at(80, 'skipped')], NOW, 'latest', { horizon: 120_000 });
    expect(held.record.map((r) => r.reason)).toEqual(['paused']);
  });
  it('says when to look again once nothing can be recorded', () => {
    // latest: 95 is held until 101 is due.
    expect(planWhilePaused([at(95), at(101)], NOW, 'latest', { horizon: 120_000 }).recheckAt).toBe(101_001);
    expect(planWhilePaused([at(95)], NOW, 'latest', { horizon: 120_000 }).recheckAt).toBe(120_000);
    // none: a tick ahead is recorded once due.
    expect(planWhilePaused([at(101)], NOW, 'none', { horizon: 120_000 }).recheckAt).toBe(101_001);
    // all: a held tick is recorded once it leaves the window; without a window, never while paused.
    expect(planWhilePaused([at(95)], NOW, 'all', { windowMs: 30_000, horizon: 120_000 }).recheckAt).toBe(
      125_001,
    );
    expect(planWhilePaused([at(95)], NOW, 'all', { horizon: 120_000 }).recheckAt).toBe(
      Number.MAX_SAFE_INTEGER,
    );
    // Something recorded: the next pass goes on at once.
    expect(paused('latest').recheckAt).toBe(NOW);
  });
  it('latest over several pages: a full page of due ticks is all paused', () => {
    expect(paused('latest', { more: true }).record).toHaveLength(5);
  });
});
