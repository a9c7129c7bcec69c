// The shape of an analytics series, without I/O: the range a request asks for (defaults, the cap on
// buckets) and the points it answers with, one per bucket whether or not anything ran in it, so a
// chart's x axis is the range itself and a quiet hour reads as zero rather than as a gap.
import { ValidationError } from '../errors.ts';
import type { JobBucket, SeriesRange } from './analytics.ts';

export type BucketName = 'hour' | 'day';

export const BUCKET_SECONDS: Readonly<Record<BucketName, number>> = { hour: 3600, day: 86_400 };

/** At most this many buckets in one series: a month of hours, or a bit over a year of days. */
export const MAX_BUCKETS = 744;

/** The default span when `from` is not given: a day of hours, or a month of days. */
const DEFAULT_BUCKETS: Readonly<Record<BucketName, number>> = { hour: 24, day: 30 };

export interface SeriesPoint extends Omit<JobBucket, 'at'> {
  /** Bucket start, RFC 3339 UTC. */
  readonly at: string;
  readonly log_lines: number;
}

/**
 * The range of a request, aligned to whole buckets (UTC): `to` defaults to the end of the current
 * bucket, `from` to the default span before it. An empty, reversed or too long range is a 422.
 */
export function seriesRange(
  q: { bucket: BucketName; from?: Date | undefined; to?: Date | undefined },
  now: Date,
): SeriesRange {
  const step = BUCKET_SECONDS[q.bucket] * 1000;
  const to = Math.ceil((q.to ?? new Date(now.getTime() + 1)).getTime() / step) * step;
  const from = q.from ? Math.floor(q.from.getTime() / step) * step : to - DEFAULT_BUCKETS[q.bucket] * step;
  if (from >= to) throw new ValidationError('invalid_range', '`from` must be before `to`', { field: 'from' });
  const buckets = (to - from) / step;
  if (buckets > MAX_BUCKETS) {
    throw new ValidationError(
      'range_too_large',
      `The range holds ${buckets} ${q.bucket} buckets; at most ${MAX_BUCKETS} are answered at once`,
      { field: 'from', details: { max_buckets: MAX_BUCKETS, buckets } },
    );
  }
  return { from: new Date(from), to: new Date(to), bucketSeconds: step / 1000 };
}

/** One point per bucket of the range, oldest first: the jobs and log lines of each, zero when none. */
export function seriesPoints(
  range: SeriesRange,
  jobs: readonly JobBucket[],
  logLines: ReadonlyMap<number, number>,
): SeriesPoint[] {
  const byBucket = new Map(jobs.map((b) => [b.at, b]));
  const points: SeriesPoint[] = [];
  const step = range.bucketSeconds;
  for (let at = range.from.getTime() / 1000; at < range.to.getTime() / 1000; at += step) {
    const j = byBucket.get(at);
    points.push({
      at: new Date(at * 1000).toISOString(),
      completed: j?.completed ?? 0,
      failed: j?.failed ?? 0,
      canceled: j?.canceled ?? 0,
      active: j?.active ?? 0,
      duration_p50_ms: j?.duration_p50_ms ?? null,
      duration_p95_ms: j?.duration_p95_ms ?? null,
      lateness_p50_ms: j?.lateness_p50_ms ?? null,
      lateness_p95_ms: j?.lateness_p95_ms ?? null,
      log_lines: logLines.get(at) ?? 0,
    });
  }
  return points;
}
