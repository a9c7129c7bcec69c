// /analytics: the caller's totals, and one workflow's, from the analytics read models.
import { createRoute, z } from '@hono/zod-openapi';
import { createRouter } from './app-env.ts';
import { json, security } from './openapi-helpers.ts';
import { commonErrors } from './problem-schema.ts';
import type { RouteDeps } from './route-deps.ts';
import { IdParam } from './schemas/workflow-schemas.ts';
import { findWorkflow } from './workflow-routes.ts';

const tags = ['analytics'];

const Totals = {
  jobs_total: z.number().int(),
  jobs_completed: z.number().int(),
  jobs_failed: z.number().int(),
  jobs_canceled: z.number().int(),
  total_duration_ms: z.number().int(),
  average_duration_ms: z.number().nullable().openapi({ description: 'Over jobs that ended' }),
  log_lines: z.number().int(),
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
  log_lines: number;
};
function totals(s: Counts | undefined) {
  const ended = s ? s.jobs_completed + s.jobs_failed + s.jobs_canceled : 0;
  return {
    jobs_total: s?.jobs_total ?? 0,
    jobs_completed: s?.jobs_completed ?? 0,
    jobs_failed: s?.jobs_failed ?? 0,
    jobs_canceled: s?.jobs_canceled ?? 0,
    total_duration_ms: s?.total_duration_ms ?? 0,
    average_duration_ms: s && ended ? Math.round(s.total_duration_ms / ended) : null,
    log_lines: s?.log_lines ?? 0,
  };
}

export function analyticsRoutes(deps: RouteDeps) {
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
      const s = await deps.db
        .selectFrom('user_stats')
        .selectAll()
        .where('user_id', '=', c.var.userId)
        .executeTakeFirst();
      return c.json({ workflows: s?.workflows ?? 0, ...totals(s) }, 200);
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
      await findWorkflow(deps, c.var.userId, id);
      const s = await deps.db
        .selectFrom('workflow_stats')
        .selectAll()
        .where('workflow_id', '=', id)
        .executeTakeFirst();
      return c.json(
        { workflow_id: id, last_job_at: s?.last_job_at ? s.last_job_at.toISOString() : null, ...totals(s) },
        200,
      );
    },
  );

  return app;
}
