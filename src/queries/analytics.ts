// The analytics read models: a user's totals and one workflow's, as the projections keep them in
// PostgreSQL (log line counts come from ClickHouse: LogQueries.countLines in logs.ts).

import { sql } from 'kysely';
import type { UserStatsRow, WorkflowStatsRow } from '../infra/database.ts';
import type { Db } from './db.ts';

export function userStats(db: Db, userId: string): Promise<UserStatsRow | undefined> {
  return db.selectFrom('user_stats').selectAll().where('user_id', '=', userId).executeTakeFirst();
}

/** Scoped by the caller too: another user's workflow has no stats. */
export function workflowStats(
  db: Db,
  userId: string,
  workflowId: string,
): Promise<WorkflowStatsRow | undefined> {
  return db
    .selectFrom('workflow_stats')
    .selectAll()
    .where('workflow_id', '=', workflowId)
    .where('user_id', '=', userId)
    .executeTakeFirst();
}

/** One time bucket of a user's (or one workflow's) jobs, by their nominal time. */
export interface JobBucket {
  /** Bucket start, Unix seconds (UTC, a multiple of the bucket's length). */
  readonly at: number;
  readonly completed: number;
  readonly failed: number;
  readonly canceled: number;
  /** Not ended yet: pending, queued or running. */
  readonly active: number;
  /** Over jobs that ran to an end (started and ended); null when none did. */
  readonly duration_p50_ms: number | null;
  readonly duration_p95_ms: number | null;
  /** Nominal time → start, over jobs that started; null when none did. */
  readonly lateness_p50_ms: number | null;
  readonly lateness_p95_ms: number | null;
}

export interface SeriesRange {
  readonly from: Date;
  readonly to: Date;
  readonly bucketSeconds: number;
}

/**
 * Jobs per bucket of their nominal time in [from, to), with duration and lateness percentiles, in
 * one query (index jobs_user_scheduled). Only buckets that hold a job are returned.
 */
export async function jobSeries(
  db: Db,
  scope: { readonly userId: string; readonly workflowId?: string },
  range: SeriesRange,
): Promise<JobBucket[]> {
  const step = Math.trunc(range.bucketSeconds);
  const ms = (a: string, b: string) => sql.raw(`extract(epoch from (${a} - ${b})) * 1000`);
  const duration = ms('completed_at', 'started_at');
  // Lateness from when the job was meant to start: a jittered fire is not late by its offset.
  const lateness = ms('started_at', 'coalesce(fire_at, scheduled_at)');
  const bucket = sql<number>`(floor(extract(epoch from scheduled_at) / ${step}) * ${step})::bigint`;
  let query = db
    .selectFrom('jobs')
    .select([
      bucket.as('at'),
      sql<string>`count(*) filter (where status = 'COMPLETED')`.as('completed'),
      sql<string>`count(*) filter (where status = 'FAILED')`.as('failed'),
      sql<string>`count(*) filter (where status = 'CANCELED')`.as('canceled'),
      sql<string>`count(*) filter (where status in ('PENDING', 'QUEUED', 'RUNNING'))`.as('active'),
      sql<
        number | null
      >`percentile_cont(0.5) within group (order by ${duration}) filter (where started_at is not null and completed_at is not null)`.as(
        'duration_p50_ms',
      ),
      sql<
        number | null
      >`percentile_cont(0.95) within group (order by ${duration}) filter (where started_at is not null and completed_at is not null)`.as(
        'duration_p95_ms',
      ),
      sql<
        number | null
      >`percentile_cont(0.5) within group (order by ${lateness}) filter (where started_at is not null)`.as(
        'lateness_p50_ms',
      ),
      sql<
        number | null
      >`percentile_cont(0.95) within group (order by ${lateness}) filter (where started_at is not null)`.as(
        'lateness_p95_ms',
      ),
    ])
    .where('user_id', '=', scope.userId)
    .where('scheduled_at', '>=', range.from)
    .where('scheduled_at', '<', range.to);
  if (scope.workflowId !== undefined) query = query.where('workflow_id', '=', scope.workflowId);
  const rows = await query.groupBy(sql`1`).orderBy(sql`1`).execute();
  const n = (v: string | number) => Number(v);
  const round = (v: number | string | null) => (v === null ? null : Math.max(0, Math.round(Number(v))));
  return rows.map((r) => ({
    at: n(r.at),
    completed: n(r.completed),
    failed: n(r.failed),
    canceled: n(r.canceled),
    active: n(r.active),
    duration_p50_ms: round(r.duration_p50_ms),
    duration_p95_ms: round(r.duration_p95_ms),
    lateness_p50_ms: round(r.lateness_p50_ms),
    lateness_p95_ms: round(r.lateness_p95_ms),
  }));
}
