import { describe, expect, it } from 'vitest';
import type { Tick } from './due-times.ts';
import type { IntervalSpec } from './schedule.ts';
import { type DueTick, planTicks, ticksToDecide } from './tick-scheduler.ts';

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
