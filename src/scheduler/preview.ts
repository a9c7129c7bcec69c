// The schedule preview the API returns (GET /workflows/{id}/schedule/preview?count=N): the next
// ticks in UTC and in the schedule's own wall time, with what DST did to each.
import { nextTicks, type TickDst } from './due-times.ts';
import type { ScheduleSpec } from './schedule.ts';

export type PreviewItem = {
  /** The UTC instant, RFC 3339 (`2026-03-29T01:00:00.000Z`). */
  readonly at: string;
  /** The wall time with its offset (`2026-03-29T03:00:00+02:00`). */
  readonly local: string;
  readonly dst: TickDst;
};

/** The most items one preview lists, whatever `count` asks. */
export const PREVIEW_MAX = 1000;

/** The next `count` ticks strictly after `now` (fewer once the schedule ends). */
export function preview(spec: ScheduleSpec, now: Date, count: number): PreviewItem[] {
  const n = Math.min(Math.max(Math.floor(count), 0), PREVIEW_MAX);
  return nextTicks(spec, now, Number.isNaN(n) ? 0 : n).map((tick) => ({
    at: tick.nominal,
    local: tick.local,
    dst: tick.dst,
  }));
}
