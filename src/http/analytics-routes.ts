// /analytics: the caller's totals, and one workflow's. Job counts and durations come from the
// analytics read models in PostgreSQL; log lines are counted where they are stored, in ClickHouse
// (one query per request), so the figure is what retention has kept, never a running tally that drifts.
import { createRoute, z } from '@hono/zod-openapi';
import { jobSeries, userStats, workflowStats } from '../queries/analytics.ts';
import { MAX_BUCKETS, seriesPoints, seriesRange } from '../queries/analytics-series.ts';
import { findWorkflow } from '../queries/workflows.ts';
import { createRouter } from './app-env.ts';
import { json, security } from './openapi-helpers.ts';
import { commonErrors } from './problem-schema.ts';
import type { RouteDeps } from './route-deps.ts';
import { IdParam } from './schemas/workflow-schemas.ts';
import type { StreamSources } from './sse-sources.ts';

const tags = ['analytics'];

export interface AnalyticsRouteDeps extends RouteDeps {
  readonly sources: Pick<StreamSources, 'logQueries'>;
}

const Totals = {
  jobs_total: z.number().int(),
  jobs_completed: z.number().int(),
  jobs_failed: z.number().int(),
  jobs_canceled: z.number().int(),
  total_duration_ms: z.number().int(),
  average_duration_ms: z.number().nullable().openapi({ description: 'Over jobs that ended' }),
  log_lines: z.number().int().openapi({
    description:
      'Log lines stored now: lines older than the retention are gone, and workflows with log_retention false store none',
  }),
};
const UserAnalytics = z.object({ workflows: z.number().int(), ...Totals }).openapi('UserAnalytics');
const WorkflowAnalytics = z
  .object({ workflow_id: z.string(), last_job_at: z.string().nullable(), ...Totals })
  .openapi('WorkflowAnalytics');

const SeriesInstant = z
  .string()
  .max(64)
  .regex(/^\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$/, {
    message: 'an instant is RFC 3339 with an offset, e.g. 2026-12-01T00:00:00Z',
  })
  .refine((v) => !Number.isNaN(Date.parse(v)), { message: 'not an instant that exists' })
  .optional();
const SeriesQuery = z.object({
  bucket: z.enum(['hour', 'day']).default('hour').openapi({ description: 'Bucket length (UTC)' }),
  from: SeriesInstant.openapi({
    format: 'date-time',
    description: 'Start (aligned down to its bucket); default: 24 hours or 30 days before `to`',
  }),
  to: SeriesInstant.openapi({
    format: 'date-time',
    description: 'End, exclusive (aligned up to its bucket); default: the end of the current bucket',
  }),
  workflow_id: z
    .uuid()
    .optional()
    .openapi({ description: 'One workflow of the caller’s; default: all of them' }),
});
const ms = z.number().int().nullable();
const SeriesPoint = z
  .object({
    at: z.string().openapi({ description: 'Bucket start, UTC, RFC 3339' }),
    completed: z.number().int(),
    failed: z.number().int(),
    canceled: z.number().int(),
    active: z.number().int().openapi({ description: 'Not ended yet (pending, queued or running)' }),
    duration_p50_ms: ms.openapi({ description: 'Start → end, over jobs that ran to an end' }),
    duration_p95_ms: ms,
    lateness_p50_ms: ms.openapi({ description: 'Nominal time → start, over jobs that started' }),
    lateness_p95_ms: ms,
    log_lines: z.number().int().openapi({ description: 'Log lines stored with a timestamp in the bucket' }),
  })
  .openapi('AnalyticsPoint');
const Series = z
  .object({
    bucket: z.enum(['hour', 'day']),
    from: z.string(),
    to: z.string(),
    workflow_id: z.string().nullable(),
    points: z.array(SeriesPoint),
  })
  .openapi('AnalyticsSeries');

type Counts = {
  jobs_total: number;
  jobs_completed: number;
  jobs_failed: number;
  jobs_canceled: number;
  total_duration_ms: number;
};
function totals(s: Counts | undefined, logLines: number) {
  const ended = s ? s.jobs_completed + s.jobs_failed + s.jobs_canceled : 0;
  return {
    jobs_total: s?.jobs_total ?? 0,
    jobs_completed: s?.jobs_completed ?? 0,
    jobs_failed: s?.jobs_failed ?? 0,
    jobs_canceled: s?.jobs_canceled ?? 0,
    total_duration_ms: s?.total_duration_ms ?? 0,
    average_duration_ms: s && ended ? Math.round(s.total_duration_ms / ended) : null,
    log_lines: logLines,
  };
}

export function analyticsRoutes(deps: AnalyticsRouteDeps, now: () => Date = () => new Date()) {
  const app = createRouter();

  app.openapi(
    createRoute({
      method: 'get',
      path: '/analytics/series',
      tags,
      security,
      description: `Jobs by the bucket of their nominal time (by outcome, with duration and lateness percentiles) and log lines by the bucket of their timestamp, one point per bucket of the range, oldest first. At most ${MAX_BUCKETS} buckets: a longer range is a 422 (range_too_large).`,
      request: { query: SeriesQuery },
      responses: { 200: json(Series, 'One point per bucket'), ...commonErrors },
    }),
    async (c) => {
      const q = c.req.valid('query');
      const userId = c.var.userId;
      const range = seriesRange(
        {
          bucket: q.bucket,
          from: q.from ? new Date(q.from) : undefined,
          to: q.to ? new Date(q.to) : undefined,
        },
        now(),
      );
      const scope = q.workflow_id === undefined ? { userId } : { userId, workflowId: q.workflow_id };
      // Ownership first: another user's workflow is a 404, and its id reads nothing.
      if (q.workflow_id !== undefined) await findWorkflow(deps.db, userId, q.workflow_id);
      const [jobs, logLines] = await Promise.all([
        jobSeries(deps.db, scope, range),
        deps.sources.logQueries().countLinesByBucket(scope, range),
      ]);
      return c.json(
        {
          bucket: q.bucket,
          from: range.from.toISOString(),
          to: range.to.toISOString(),
          workflow_id: q.workflow_id ?? null,
          points: seriesPoints(range, jobs, logLines),
        },
        200,
      );
    },
  );

  app.openapi(
    createRoute({
      method: 'get',
      path: '/analytics',
      tags,
      security,
      responses: { 200: json(UserAnalytics, "The caller's totals"), ...commonErrors },
    }),
    async (c) => {
      const userId = c.var.userId;
      const [s, logLines] = await Promise.all([
        userStats(deps.db, userId),
        deps.sources.logQueries().countLines({ userId }),
      ]);
      return c.json({ workflows: s?.workflows ?? 0, ...totals(s, logLines) }, 200);
    },
  );

  app.openapi(
    createRoute({
      method: 'get',
      path: '/analytics/workflows/{id}',
      tags,
      security,
      request: { params: IdParam },
      responses: { 200: json(WorkflowAnalytics, "One workflow's totals"), ...commonErrors },
    }),
    async (c) => {
      const { id } = c.req.valid('param');
      const userId = c.var.userId;
      // All three at once: the reads are scoped by the caller too, so they read nothing of another
      // user's even when the ownership check is about to answer 404.
      const [, s, logLines] = await Promise.all([
        findWorkflow(deps.db, userId, id),
        workflowStats(deps.db, userId, id),
        deps.sources.logQueries().countLines({ userId, workflowId: id }),
      ]);
      return c.json(
        {
          workflow_id: id,
          last_job_at: s?.last_job_at ? s.last_job_at.toISOString() : null,
          ...totals(s, logLines),
        },
        200,
      );
    },
  );

  return app;
}
