// The schedule model the scheduler computes with: the workflow's WorkflowSchedule plus bounds, a
// one-off kind and a DST policy. A superset, so every stored WorkflowSchedule is a valid spec.

import { INTERVAL_MINUTES } from '../actors/workflow-definition.ts';
import { assertNever } from '../assert.ts';
import type { WorkflowSchedule } from '../events/workflow-events.ts';
import { cronProblem, isValidTimeZone } from '../workflows/schedule-validation.ts';

/** A local time that does not exist (spring forward): run at the end of the gap, or record it skipped. */
export type NonexistentTimePolicy = 'shift' | 'skip';
/** A local time that happens twice (fall back): run at its first occurrence only, or at both. */
export type RepeatedTimePolicy = 'once' | 'twice';
export type DstPolicy = {
  readonly nonexistent: NonexistentTimePolicy;
  readonly repeated: RepeatedTimePolicy;
};

export const DEFAULT_DST_POLICY: DstPolicy = { nonexistent: 'shift', repeated: 'once' };

/** What every kind may carry. Instants are RFC 3339 text with an explicit offset (`Z` or `±hh:mm`). */
export type ScheduleOptions = {
  /** No tick before this instant; a tick exactly at it fires. For intervals, also the grid's origin. */
  readonly start_at?: string;
  /** No tick after this instant; a tick exactly at it fires. */
  readonly end_at?: string;
  /**
   * When the schedule took effect (the workflow's creation): no tick at or before it, and the origin
   * of an interval's grid when there is no start_at. Interval ticks at anchor + k·minutes, k ≥ 1.
   */
  readonly anchor?: string;
  /** Only cron schedules meet DST; a missing field takes its default (shift, once). */
  readonly dst?: Partial<DstPolicy>;
  /** Each tick's `at` is its nominal time plus an offset in [0, jitter_seconds) keyed by `jitter_key`. */
  readonly jitter_seconds?: number;
  /** The workflow id: with jitter_seconds, what the offsets derive from (without it, no jitter). */
  readonly jitter_key?: string;
  /** A backfill's view: ticks before the anchor count too (it stays the interval grid's origin). */
  readonly before_anchor?: boolean;
};

export type IntervalSpec = ScheduleOptions & {
  readonly type: 'interval';
  readonly minutes: number;
  /** Only how `local` is shown: interval ticks are UTC arithmetic and never meet DST. */
  readonly timezone?: string;
};
export type CronSpec = ScheduleOptions & {
  readonly type: 'cron';
  /** 5 fields (minute first) or 6 (second first); day-of-month and day-of-week combine with OR. */
  readonly cron: string;
  readonly timezone: string;
};
export type AtSpec = ScheduleOptions & {
  readonly type: 'at';
  /** The one instant it fires. */
  readonly at: string;
  /** Only how `local` is shown. */
  readonly timezone?: string;
};

export type ScheduleSpec = IntervalSpec | CronSpec | AtSpec;

// A compile-time proof of the superset: a stored schedule whose kind or field types the spec does
// not accept breaks the build here. (Fields the scheduler does not compute with, such as overlap
// and catch_up, pass through untouched.)
const _everyWorkflowScheduleIsASpec = (schedule: WorkflowSchedule): ScheduleSpec => schedule;
void _everyWorkflowScheduleIsASpec;

export function dstPolicyOf(spec: ScheduleSpec): DstPolicy {
  return {
    nonexistent: spec.dst?.nonexistent ?? DEFAULT_DST_POLICY.nonexistent,
    repeated: spec.dst?.repeated ?? DEFAULT_DST_POLICY.repeated,
  };
}

const RFC3339 = /^(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(\.\d{1,9})?([Zz]|[+-]\d{2}:\d{2})$/;

/**
 * The instant of an RFC 3339 timestamp, in epoch milliseconds, or undefined when it is not one.
 * Stricter than Date.parse, which takes "2026-02-30" (as March 2) and 24:00, and which reads a
 * timestamp without offset in the process's own zone: here an offset is required.
 */
export function parseInstant(text: string): number | undefined {
  const match = RFC3339.exec(text);
  if (match === null) return undefined;
  const [, y, mo, d, h, mi, s, , offset] = match;
  const month = Number(mo);
  const day = Number(d);
  const daysInMonth = new Date(Date.UTC(Number(y), month, 0)).getUTCDate();
  if (month < 1 || month > 12 || day < 1 || day > daysInMonth) return undefined;
  if (Number(h) > 23 || Number(mi) > 59 || Number(s) > 59) return undefined;
  if (
    offset !== undefined &&
    offset.length > 1 &&
    (Number(offset.slice(1, 3)) > 23 || Number(offset.slice(4)) > 59)
  ) {
    return undefined;
  }
  const ms = Date.parse(text);
  return Number.isNaN(ms) ? undefined : ms;
}

/** As parseInstant, for values already checked (by scheduleSpecProblem); throws RangeError if not one. */
export function instantOf(field: string, text: string): number {
  const ms = parseInstant(text);
  if (ms === undefined)
    throw new RangeError(`${field} is not an RFC 3339 timestamp with an offset: "${text}"`);
  return ms;
}

/** Undefined when the scheduler can compute with the spec; otherwise why not, in words for the user. */
export function scheduleSpecProblem(spec: ScheduleSpec): string | undefined {
  for (const field of ['start_at', 'end_at', 'anchor'] as const) {
    const value = spec[field];
    if (value !== undefined && parseInstant(value) === undefined) {
      return `${field} must be an RFC 3339 timestamp with an offset, such as 2026-03-29T02:30:00+01:00`;
    }
  }
  if (spec.start_at !== undefined && spec.end_at !== undefined) {
    if (instantOf('end_at', spec.end_at) < instantOf('start_at', spec.start_at)) {
      return 'end_at is before start_at';
    }
  }
  const { nonexistent, repeated } = spec.dst ?? {};
  if (nonexistent !== undefined && nonexistent !== 'shift' && nonexistent !== 'skip') {
    return 'dst.nonexistent must be shift or skip';
  }
  if (repeated !== undefined && repeated !== 'once' && repeated !== 'twice') {
    return 'dst.repeated must be once or twice';
  }
  switch (spec.type) {
    case 'interval': {
      const { min, max } = INTERVAL_MINUTES;
      if (!Number.isInteger(spec.minutes) || spec.minutes < min || spec.minutes > max) {
        return `interval minutes must be an integer from ${min} to ${max}`;
      }
      return timezoneProblem(spec.timezone);
    }
    case 'cron':
      return cronProblem(spec.cron, spec.timezone);
    case 'at':
      if (parseInstant(spec.at) === undefined) {
        return 'at must be an RFC 3339 timestamp with an offset, such as 2026-03-29T02:30:00+01:00';
      }
      return timezoneProblem(spec.timezone);
    default:
      return assertNever(spec);
  }
}

function timezoneProblem(zone: string | undefined): string | undefined {
  return zone === undefined || isValidTimeZone(zone) ? undefined : `unknown time zone "${zone}"`;
}
