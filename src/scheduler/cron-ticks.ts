// Cron ticks in an IANA zone with an explicit DST policy. croner matches the pattern against wall
// time only (run in UTC, where no DST exists); this module decides which instants those wall times
// are, stretch by stretch of constant UTC offset, so gaps and overlaps follow the workflow's policy
// and not croner's own rule (which depends on the pattern's shape, see docs/scheduling.md).
import { Cron } from 'croner';
import { type CronSpec, dstPolicyOf } from './schedule.ts';
import {
  nextTransition,
  type OffsetTransition,
  previousTransition,
  transitionHorizon,
} from './zone-transitions.ts';
import { formatWallTime, offsetAt } from './zoned-time.ts';

/** null for an ordinary tick; otherwise how DST moved it (see docs/scheduling.md). */
export type TickDst = null | 'shifted' | 'repeated' | 'skipped';

/** A tick before it becomes a Tick: `at` in epoch milliseconds. */
export type RawTick = { readonly at: number; readonly local: string; readonly dst: TickDst };

/** The first wall time (arithmetic form) strictly after the given one that matches, if any remains. */
export type WallClockPattern = (afterWall: number) => number | undefined;

/**
 * The pattern as a function of wall time. 5 fields are minute-first, 6 are second-first; 7-field
 * (year) patterns are refused, as the API refuses them. Day-of-month and day-of-week combine with
 * OR, as in Vixie cron (croner's default; `+` on the weekday asks for AND).
 */
export function wallClockPattern(expression: string): WallClockPattern {
  let cron = parsed.get(expression);
  if (cron === undefined) {
    // utcOffset 0, not timezone 'UTC': the same answers about ten times faster (croner converts
    // every step through Intl when it has a zone).
    cron = new Cron(expression, { utcOffset: 0, mode: '5-or-6-parts', paused: true });
    if (parsed.size >= PARSED_MAX) parsed.delete(parsed.keys().next().value as string);
    parsed.set(expression, cron);
  }
  const pattern = cron;
  return (afterWall) => pattern.nextRun(new Date(afterWall))?.getTime() ?? undefined;
}

// Parsing costs about 4 times a nextRun, and a scheduler asks about the same few expressions again
// and again. nextRun(date) keeps no state, so parsed patterns can be shared; the oldest goes first.
const PARSED_MAX = 2000;
const parsed = new Map<string, Cron>();

/**
 * The ticks strictly after `afterMs`, ascending, without end. Each stretch [start, end) of constant
 * offset `o` holds the wall times [start + o, end + o). Between stretches:
 * - spring forward (offset grows at T): wall times in [T + before, T + after) do not exist. If any
 *   matches, one tick stands for them all: `shift` fires it at T (03:00 in the Berlin example),
 *   unless the pattern matches T's own wall time, which then fires as an ordinary tick; `skip`
 *   records it at T − 1 ms, the one instant no whole-second tick can take, so that it keeps its own
 *   identity next to a tick at T (an hourly job fires at 03:00 CEST = T).
 * - fall back (offset shrinks at T): wall times in [T + after, T + before) come round again after T.
 *   `once` leaves them out; `twice` fires them again, as 'repeated'.
 */
export function* cronTicks(spec: CronSpec, afterMs: number): Generator<RawTick> {
  const zone = spec.timezone;
  const policy = dstPolicyOf(spec);
  const nextWall = wallClockPattern(spec.cron);
  let start = afterMs + 1;
  let offset = offsetAt(zone, start);
  let opened: OffsetTransition | undefined = previousTransition(zone, start);
  // Starting exactly at a spring-forward instant T (after = T − 1 ms): the gap's tick at T is still due.
  if (opened !== undefined && opened.at === start && opened.after > opened.before) {
    const gapTick = nonexistentTick(opened, nextWall, policy.nonexistent);
    if (gapTick !== undefined && gapTick.at >= start) yield gapTick;
  }
  for (;;) {
    const closing = nextTransition(zone, start);
    const end = closing?.at ?? transitionHorizon(start);
    let cursor = start + offset - 1;
    let repeatedUntil = Number.NEGATIVE_INFINITY;
    if (opened !== undefined && opened.before > opened.after) {
      repeatedUntil = opened.at + opened.before;
      if (policy.repeated === 'once') cursor = Math.max(cursor, repeatedUntil - 1);
    }
    for (;;) {
      const wall = nextWall(cursor);
      if (wall === undefined) return;
      if (wall >= end + offset) break;
      yield {
        at: wall - offset,
        local: formatWallTime(wall, offset),
        dst: wall < repeatedUntil ? 'repeated' : null,
      };
      cursor = wall;
    }
    if (closing !== undefined && closing.after > closing.before) {
      const gapTick = nonexistentTick(closing, nextWall, policy.nonexistent);
      if (gapTick !== undefined) yield gapTick;
    }
    start = end;
    offset = closing?.after ?? offsetAt(zone, end);
    opened = closing;
  }
}

function nonexistentTick(
  gap: OffsetTransition,
  nextWall: WallClockPattern,
  policy: 'shift' | 'skip',
): RawTick | undefined {
  const firstMissing = nextWall(gap.at + gap.before - 1);
  if (firstMissing === undefined || firstMissing >= gap.at + gap.after) return undefined;
  if (policy === 'skip') {
    return { at: gap.at - 1, local: formatWallTime(firstMissing, gap.before), dst: 'skipped' };
  }
  const gapEndWall = gap.at + gap.after;
  if (nextWall(gapEndWall - 1) === gapEndWall) return undefined;
  return { at: gap.at, local: formatWallTime(gapEndWall, gap.after), dst: 'shifted' };
}
