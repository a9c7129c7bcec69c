// Catch-up after downtime (scheduler down, workflow resumed): which of the ticks that came due
// while nobody decided them fire now, and which are recorded as missed. Pure: `now` is a parameter.
import { assertNever } from '../actors/decision-input.ts';
import { boundsOf, type Tick, ticksAfter } from './due-times.ts';
import type { ScheduleSpec } from './schedule.ts';

/**
 * `latest` fires the newest due tick and records the others as missed (the default); `all` fires the
 * due ticks no older than the window, the newest `max` of them; `none` records every one as missed.
 */
export type CatchUpPolicy = 'latest' | 'all' | 'none';

export type CatchUpPlan = {
  /** Ticks to fire now, ascending. Never a tick with dst 'skipped'. */
  readonly fire: Tick[];
  /**
   * Ticks to record as skipped, ascending: reason `missed`, except a tick whose dst is 'skipped',
   * which the DST policy skipped whatever the catch-up policy (record it with that reason).
   */
  readonly missed: Tick[];
  /**
   * False when more due ticks remain than one plan holds (`maxMissed`): decide these, then plan
   * again from the last of them. A later tick is then held back, as the ledger only moves forward.
   */
  readonly complete: boolean;
};

/** How many ticks one plan records as missed at most: a per-second schedule down for a day has 86,400. */
export const DEFAULT_MAX_MISSED = 10_000;

/**
 * The ticks in (last decided tick, now], split by the policy. Apply `fire` and `missed` together in
 * order of `at`: the ledger only moves forward, and a tick at or before the last one is a no-op.
 * With no tick decided yet (`lastTickAt` null), the ticks counted are those from start_at or after
 * the anchor (the workflow's creation); a spec with neither has nothing to catch up.
 */
export function planCatchUp(
  spec: ScheduleSpec,
  lastTickAt: Date | null,
  now: Date,
  policy: CatchUpPolicy,
  windowMs: number,
  max: number,
  maxMissed: number = DEFAULT_MAX_MISSED,
): CatchUpPlan {
  const nowMs = now.getTime();
  const lower = lastTickAt?.getTime() ?? boundsOf(spec).lowerExclusive;
  if (!Number.isFinite(lower) || lower >= nowMs) return { fire: [], missed: [], complete: true };
  const chosen = new Set(ticksToFire(spec, lower, nowMs, policy, windowMs, max).map((t) => t.nominal));
  const fire: Tick[] = [];
  const missed: Tick[] = [];
  for (const tick of ticksAfter(spec, new Date(lower))) {
    if (tick.at.getTime() > nowMs) break;
    if (chosen.has(tick.nominal)) {
      fire.push(tick);
    } else {
      if (missed.length >= maxMissed) return { fire, missed, complete: false };
      missed.push(tick);
    }
  }
  return { fire, missed, complete: true };
}

function ticksToFire(
  spec: ScheduleSpec,
  lower: number,
  nowMs: number,
  policy: CatchUpPolicy,
  windowMs: number,
  max: number,
): Tick[] {
  switch (policy) {
    case 'none':
      return [];
    case 'latest':
      return newestFireable(spec, lower, nowMs, Math.min(1, max));
    case 'all':
      return newestFireable(spec, Math.max(lower, nowMs - windowMs - 1), nowMs, max);
    default:
      return assertNever(policy);
  }
}

/**
 * The newest `n` ticks in (lowerExclusive, until] that can fire, ascending. Ticks are only
 * enumerated forwards, so the span looked at doubles back from `until` until it holds n of them:
 * the work stays proportional to the ticks near `until`, not to the length of the downtime.
 */
export function newestFireable(spec: ScheduleSpec, lowerExclusive: number, until: number, n: number): Tick[] {
  if (n <= 0) return [];
  for (let span = 60_000; ; span *= 2) {
    const from = Math.max(lowerExclusive, until - span);
    const newest: Tick[] = [];
    for (const tick of ticksAfter(spec, new Date(from))) {
      if (tick.at.getTime() > until) break;
      if (tick.dst === 'skipped') continue;
      newest.push(tick);
      if (newest.length >= 2 * n) newest.splice(0, newest.length - n);
    }
    if (newest.length >= n || from === lowerExclusive) return newest.slice(-n);
  }
}
