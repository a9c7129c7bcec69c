// Due times: the nominal ticks of a schedule after a given instant. Pure: the caller passes the
// instants; nothing here reads the clock. Every kind yields ticks strictly increasing in `at`, and
// `nominal` (the ledger's identity of a tick, `at` in canonical ISO form) is therefore unique.

import { assertNever } from '../assert.ts';
import { jitterOffsetMs } from '../workflows/jitter.ts';
import { cronTicks, type RawTick } from './cron-ticks.ts';
import { type AtSpec, type IntervalSpec, instantOf, type ScheduleSpec } from './schedule.ts';
import { formatInZone, formatWallTime } from './zoned-time.ts';

export type { TickDst } from './cron-ticks.ts';

import type { TickDst } from './cron-ticks.ts';

export type Tick = {
  /**
   * The UTC instant it fires (for a 'skipped' tick: the instant it is recorded as skipped): its
   * nominal time, plus the workflow's jitter offset for it when the schedule has jitter.
   */
  readonly at: Date;
  /** Its stable identity in the ledger and in job ids: the nominal instant in ISO UTC form. */
  readonly nominal: string;
  /** The wall time with its offset, e.g. 2026-03-29T03:00:00+02:00. */
  readonly local: string;
  readonly dst: TickDst;
};

/** All ticks strictly after `after`, ascending and lazily, within the spec's start_at / end_at / anchor. */
export function* ticksAfter(spec: ScheduleSpec, after: Date): Generator<Tick> {
  if (Number.isNaN(after.getTime())) throw new RangeError('after is an invalid Date');
  const { lowerExclusive, upperInclusive } = boundsOf(spec);
  for (const raw of rawTicks(spec, Math.max(after.getTime(), lowerExclusive))) {
    if (raw.at > upperInclusive) return;
    yield toTick(raw, spec);
  }
}

/** The next `count` ticks strictly after `after`: fewer when the schedule ends first. */
export function nextTicks(spec: ScheduleSpec, after: Date, count: number): Tick[] {
  const ticks: Tick[] = [];
  if (count <= 0) return ticks;
  for (const tick of ticksAfter(spec, after)) {
    ticks.push(tick);
    if (ticks.length >= count) break;
  }
  return ticks;
}

/** The ticks in (afterExclusive, untilInclusive], the first `max` of them. */
export function ticksBetween(
  spec: ScheduleSpec,
  afterExclusive: Date,
  untilInclusive: Date,
  max: number,
): Tick[] {
  const ticks: Tick[] = [];
  if (max <= 0) return ticks;
  const until = untilInclusive.getTime();
  for (const tick of ticksAfter(spec, afterExclusive)) {
    if (tick.at.getTime() > until) break;
    ticks.push(tick);
    if (ticks.length >= max) break;
  }
  return ticks;
}

/** True when no tick remains after `after`. */
export function isEnded(spec: ScheduleSpec, after: Date): boolean {
  return ticksAfter(spec, after).next().done === true;
}

/**
 * The tick the ledger records as `end_reached`: the first one the schedule would have fired after
 * `end_at` had it no `end_at`. So the marker is a real nominal time of the schedule, the first one
 * that did not run because the schedule ended. Null without `end_at`, and when nothing would have
 * followed anyway (a one-off due before its end: its own tick is all its ledger holds). A one-off
 * whose `end_at` comes before its `at` gets its one tick recorded as `end_reached`.
 */
export function endTick(spec: ScheduleSpec): Tick | null {
  if (spec.end_at === undefined) return null;
  const { end_at, ...unbounded } = spec;
  for (const tick of ticksAfter(unbounded, new Date(instantOf('end_at', end_at)))) {
    // A time in a DST gap under `skip` would not have fired either; the marker takes the next one.
    if (tick.dst !== 'skipped') return tick;
  }
  return null;
}

/** Ticks lie in (lowerExclusive, upperInclusive]: from start_at on, after the anchor, up to end_at. */
export function boundsOf(spec: ScheduleSpec): { lowerExclusive: number; upperInclusive: number } {
  let lowerExclusive = Number.NEGATIVE_INFINITY;
  if (spec.start_at !== undefined) lowerExclusive = instantOf('start_at', spec.start_at) - 1;
  if (spec.anchor !== undefined && !spec.before_anchor) {
    lowerExclusive = Math.max(lowerExclusive, instantOf('anchor', spec.anchor));
  }
  const upperInclusive =
    spec.end_at === undefined ? Number.POSITIVE_INFINITY : instantOf('end_at', spec.end_at);
  return { lowerExclusive, upperInclusive };
}

function rawTicks(spec: ScheduleSpec, afterMs: number): Iterable<RawTick> {
  switch (spec.type) {
    case 'interval':
      return intervalTicks(spec, afterMs);
    case 'cron':
      return cronTicks(spec, afterMs);
    case 'at':
      return atTicks(spec, afterMs);
    default:
      return assertNever(spec);
  }
}

/**
 * origin + k·minutes, in UTC arithmetic (an interval is a duration, so DST cannot touch it). The
 * origin is start_at, else the anchor (the workflow's creation), else the Unix epoch, which aligns
 * a bare `{type:'interval', minutes: 15}` to :00, :15, :30 and :45 UTC.
 */
function* intervalTicks(spec: IntervalSpec, afterMs: number): Generator<RawTick> {
  if (!Number.isInteger(spec.minutes) || spec.minutes <= 0) {
    throw new RangeError(`interval minutes must be a positive integer, not ${spec.minutes}`);
  }
  const step = spec.minutes * 60_000;
  let origin = 0;
  if (spec.anchor !== undefined) origin = instantOf('anchor', spec.anchor);
  if (spec.start_at !== undefined) origin = instantOf('start_at', spec.start_at);
  const first = Number.isFinite(afterMs) ? Math.floor((afterMs - origin) / step) + 1 : 0;
  for (let k = first; ; k++) {
    const at = origin + k * step;
    yield { at, local: localOf(spec.timezone, at), dst: null };
  }
}

function* atTicks(spec: AtSpec, afterMs: number): Generator<RawTick> {
  const at = instantOf('at', spec.at);
  if (at > afterMs) yield { at, local: localOf(spec.timezone, at), dst: null };
}

function localOf(zone: string | undefined, at: number): string {
  return zone === undefined ? formatWallTime(at, 0) : formatInZone(zone, at);
}

function toTick(raw: RawTick, spec: ScheduleSpec): Tick {
  const nominal = new Date(raw.at).toISOString();
  const offset =
    spec.jitter_key === undefined ? 0 : jitterOffsetMs(spec.jitter_key, nominal, spec.jitter_seconds);
  return { at: new Date(raw.at + offset), nominal, local: raw.local, dst: raw.dst };
}

/** How many ticks are looked at for a schedule's shortest gap (a cron's gaps can differ). */
const GAP_SAMPLE = 2000;

/**
 * Undefined when the schedule's jitter fits it; otherwise why not. Jitter is at most the shortest gap
 * between two ticks, so jittered times keep the ticks' order (the ledger only moves forward): an
 * interval's period, or for a cron the shortest gap among its next GAP_SAMPLE ticks after `from`.
 */
export function jitterProblem(spec: ScheduleSpec, from: Date): string | undefined {
  const j = spec.jitter_seconds;
  if (j === undefined) return undefined;
  if (spec.type === 'at') return 'jitter_seconds: a one-off (at) schedule has no jitter';
  const { jitter_key, ...plain } = spec;
  void jitter_key;
  let gap = spec.type === 'interval' ? spec.minutes * 60_000 : Number.POSITIVE_INFINITY;
  if (spec.type === 'cron') {
    let previous: number | undefined;
    for (const tick of nextTicks(plain, from, GAP_SAMPLE)) {
      const at = tick.at.getTime();
      if (previous !== undefined) gap = Math.min(gap, at - previous);
      previous = at;
    }
  }
  if (j * 1000 > gap) {
    return `jitter_seconds must be at most the schedule's shortest gap between ticks (${Math.floor(gap / 1000)} s)`;
  }
  return undefined;
}
