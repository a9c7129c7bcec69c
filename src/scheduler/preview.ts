// The schedule preview the API returns (GET /workflows/{id}/schedule/preview?count=N): the next
// ticks in UTC and in the schedule's own wall time, with what DST did to each.
import { nextTicks, type TickDst } from './due-times.ts';
import type { ScheduleSpec } from './schedule.ts';

export type PreviewItem = {
  /** When it fires, UTC, RFC 3339 (`2026-03-29T01:00:00.000Z`): with jitter, nominal + the offset. */
  readonly at: string;
  /** The tick's nominal instant (its identity in the ledger); `at` without jitter. */
  readonly nominal: string;
  /** The nominal wall time with its offset (`2026-03-29T03:00:00+02:00`). */
  readonly local: string;
  readonly dst: TickDst;
};

/** The most items one preview lists, whatever `count` asks. */
export const PREVIEW_MAX = 1000;

/** The next `count` ticks strictly after `now` (fewer once the schedule ends). */
export function preview(spec: ScheduleSpec, now: Date, count: number): PreviewItem[] {
  const n = Math.min(Math.max(Math.floor(count), 0), PREVIEW_MAX);
  return nextTicks(spec, now, Number.isNaN(n) ? 0 : n).map((tick) => ({
    at: tick.at.toISOString(),
    nominal: tick.nominal,
    local: tick.local,
    dst: tick.dst,
  }));
}
