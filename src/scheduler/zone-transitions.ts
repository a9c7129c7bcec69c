// Where a zone's UTC offset changes (DST starts and ends, changes of standard time), found by
// sampling the offset and bisecting to the second. Memoised per zone and year: tz data does not
// change while a process runs, so the cache is as pure as the computation it saves.
import { offsetAt } from './zoned-time.ts';

/** At instant `at` the offset changes from `before` to `after` (milliseconds, east positive). */
export type OffsetTransition = { readonly at: number; readonly before: number; readonly after: number };

const SAMPLE_MS = 6 * 3_600_000;
const SECOND_MS = 1000;
const cache = new Map<string, readonly OffsetTransition[]>();

function yearStart(year: number): number {
  const d = new Date(0);
  d.setUTCFullYear(year, 0, 1);
  return d.getTime();
}

/**
 * The transitions T with start(year) < T ≤ start(year + 1), in order. Sampling every 6 hours
 * assumes a zone never changes its offset twice within 6 hours (no zone in the tz data has done
 * so in living memory; the shortest DST periods, Morocco's Ramadan suspensions, last weeks).
 */
export function transitionsInYear(zone: string, year: number): readonly OffsetTransition[] {
  const key = `${zone}\u0000${year}`;
  const cached = cache.get(key);
  if (cached !== undefined) return cached;
  const end = yearStart(year + 1);
  const found: OffsetTransition[] = [];
  let lo = yearStart(year);
  let loOffset = offsetAt(zone, lo);
  while (lo < end) {
    const hi = Math.min(lo + SAMPLE_MS, end);
    const hiOffset = offsetAt(zone, hi);
    if (hiOffset !== loOffset) found.push(bisect(zone, lo, loOffset, hi, hiOffset));
    lo = hi;
    loOffset = hiOffset;
  }
  cache.set(key, found);
  return found;
}

/** offsetAt(lo) = before ≠ offsetAt(hi): the first whole second in (lo, hi] with the new offset. */
function bisect(zone: string, lo: number, before: number, hi: number, after: number): OffsetTransition {
  let a = lo;
  let b = hi;
  while (b - a > SECOND_MS) {
    const mid = a + Math.floor((b - a) / 2 / SECOND_MS) * SECOND_MS;
    if (offsetAt(zone, mid) === before) a = mid;
    else b = mid;
  }
  return { at: b, before, after };
}

function yearOf(epochMs: number): number {
  return new Date(epochMs).getUTCFullYear();
}

/** The first transition strictly after `epochMs` within the next calendar year or so, if any. */
export function nextTransition(zone: string, epochMs: number): OffsetTransition | undefined {
  const year = yearOf(epochMs);
  for (const y of [year, year + 1]) {
    const hit = transitionsInYear(zone, y).find((t) => t.at > epochMs);
    if (hit !== undefined) return hit;
  }
  return undefined;
}

/** Where nextTransition stops looking: past this instant, a transition may exist it did not report. */
export function transitionHorizon(epochMs: number): number {
  return yearStart(yearOf(epochMs) + 2);
}

/** The last transition at or before `epochMs` within the previous calendar year or so, if any. */
export function previousTransition(zone: string, epochMs: number): OffsetTransition | undefined {
  const year = yearOf(epochMs);
  for (const y of [year, year - 1]) {
    const hit = transitionsInYear(zone, y).findLast((t) => t.at <= epochMs);
    if (hit !== undefined) return hit;
  }
  return undefined;
}
