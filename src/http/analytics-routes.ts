// /analytics: the caller's totals, and one workflow's. Job counts and durations come from the
// analytics read models in PostgreSQL; log lines are counted where they are stored, in ClickHouse
// (one query per request), so the figure is what retention has kept, never a running tally that drifts.
import { createRoute, z } from '@hono/zod-openapi';
import { userStats, workflowStats } from '../queries/analytics.ts';
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

export function analyticsRoutes(deps: AnalyticsRouteDeps) {
  const app = createRouter();

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
