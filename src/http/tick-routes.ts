// The tick ledger and the schedule preview of a workflow: every nominal tick, fired (with its job) or
// skipped (with the reason), newest first; and the next fire times in UTC and local time.
import { createRoute, z } from '@hono/zod-openapi';
import { mapPage } from '../queries/paging.ts';
import { listTicks } from '../queries/ticks.ts';
import { findWorkflow } from '../queries/workflows.ts';
import { preview } from '../scheduler/preview.ts';
import { specOf } from '../scheduler/tick-plan.ts';
import { createRouter } from './app-env.ts';
import { json, security } from './openapi-helpers.ts';
import { commonErrors } from './problem-schema.ts';
import type { RouteDeps } from './route-deps.ts';
import { IdParam } from './schemas/workflow-schemas.ts';

const tags = ['schedule'];

const TickItem = z
  .object({
    nominal_at: z.string(),
    outcome: z.enum(['fired', 'skipped']),
    reason: z.string().nullable(),
    job_id: z.string().nullable(),
    fire_at: z
      .string()
      .nullable()
      .openapi({ description: 'A fired tick of a schedule with jitter: when its job is to start' }),
    recorded_at: z.string(),
  })
  .openapi('Tick');
const TickPage = z
  .object({ items: z.array(TickItem), next_cursor: z.string().nullable() })
  .openapi('TickPage');
const TickQuery = z.object({
  cursor: z.string().max(512).optional(),
  limit: z.coerce.number().int().min(1).max(1000).default(100),
  outcome: z.enum(['fired', 'skipped']).optional(),
});

const PreviewItem = z
  .object({
    at: z.string().openapi({
      description: 'When it fires, UTC, RFC 3339: with jitter, its nominal time plus the offset',
    }),
    nominal: z.string().openapi({ description: "The tick's nominal time (its identity in the ledger), UTC" }),
    local: z.string().openapi({ description: 'Wall time in the schedule’s zone, with its offset' }),
    dst: z.enum(['shifted', 'repeated', 'skipped']).nullable(),
  })
  .openapi('PreviewTick');
const Preview = z.object({ items: z.array(PreviewItem) }).openapi('SchedulePreview');
const PreviewQuery = z.object({ count: z.coerce.number().int().min(1).max(100).default(10) });

export function tickRoutes(deps: RouteDeps, now: () => Date = () => new Date()) {
  const app = createRouter();

  app.openapi(
    createRoute({
      method: 'get',
      path: '/workflows/{id}/ticks',
      tags,
      security,
      request: { params: IdParam, query: TickQuery },
      responses: { 200: json(TickPage, 'The tick ledger, newest first'), ...commonErrors },
    }),
    async (c) => {
      const { id } = c.req.valid('param');
      const q = c.req.valid('query');
      await findWorkflow(deps.db, c.var.userId, id);
      const page = await listTicks(deps.db, c.var.userId, id, q);
      return c.json(
        mapPage(page, (t) => ({
          nominal_at: t.nominal_at.toISOString(),
          outcome: t.outcome,
          reason: t.reason,
          job_id: t.job_id,
          fire_at: t.fire_at ? t.fire_at.toISOString() : null,
          recorded_at: t.recorded_at.toISOString(),
        })),
        200,
      );
    },
  );

  app.openapi(
    createRoute({
      method: 'get',
      path: '/workflows/{id}/schedule/preview',
      tags,
      security,
      request: { params: IdParam, query: PreviewQuery },
      responses: { 200: json(Preview, 'The next fire times'), ...commonErrors },
    }),
    async (c) => {
      const { id } = c.req.valid('param');
      const w = await findWorkflow(deps.db, c.var.userId, id);
      const from = w.last_tick_at && w.last_tick_at > now() ? w.last_tick_at : now();
      return c.json(
        { items: preview(specOf(w.schedule, w.created_at, w.id), from, c.req.valid('query').count) },
        200,
      );
    },
  );

  return app;
}
