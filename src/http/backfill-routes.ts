// Backfill: POST /workflows/{id}/backfill fires the schedule's nominal ticks in [from, to) now, as jobs
// with trigger BACKFILL; GET /workflows/{id}/backfills lists them with their progress. The ticks are
// computed here from the workflow's schedule (the scheduler's own due times, before the workflow's
// creation too) and decided by the workflow actor in one commit, which leaves out ticks an earlier
// backfill fired: a retried or repeated request fires nothing twice.
import { createRoute, z } from '@hono/zod-openapi';
import { workflowDecider } from '../actors/workflow-decider.ts';
import type { Config } from '../config/config.ts';
import { ValidationError } from '../errors.ts';
import { nameBasedUuid } from '../events/name-based-id.ts';
import { listBackfills } from '../queries/backfills.ts';
import { findWorkflow } from '../queries/workflows.ts';
import { ticksBetween } from '../scheduler/due-times.ts';
import { specOf } from '../scheduler/tick-plan.ts';
import { createRouter } from './app-env.ts';
import { json, security } from './openapi-helpers.ts';
import { commonErrors, conflictErrors } from './problem-schema.ts';
import { requestOrigin } from './require-auth.ts';
import type { RouteDeps } from './route-deps.ts';
import { IdParam } from './schemas/workflow-schemas.ts';

const tags = ['schedule'];

export interface BackfillRouteDeps extends RouteDeps {
  readonly config: Pick<Config, 'CV_BACKFILL_MAX_TICKS'>;
}

const Instant = z
  .string()
  .max(64)
  .regex(/^\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$/, {
    message: 'an instant is RFC 3339 with an offset, e.g. 2026-12-01T00:00:00Z',
  })
  .refine((v) => !Number.isNaN(Date.parse(v)), { message: 'not an instant that exists' })
  .openapi({ format: 'date-time' });

const BackfillBody = z
  .strictObject({
    from: Instant.openapi({ description: 'First nominal time included' }),
    to: Instant.openapi({ description: 'End, excluded; not after now' }),
    overlap: z.enum(['allow', 'buffer']).default('buffer').openapi({
      description: 'For this backfill alone: allow, all at once; buffer (default), one after another',
    }),
  })
  .openapi('BackfillRequest');

const BackfillStarted = z
  .object({
    backfill_id: z.string(),
    jobs: z.number().int().openapi({ description: 'Ticks fired by this request' }),
    covered: z
      .number()
      .int()
      .openapi({ description: 'Ticks of the range an earlier backfill fired already' }),
    job_ids: z.array(z.string()),
  })
  .openapi('BackfillStarted');

const Backfill = z
  .object({
    id: z.string(),
    from: z.string(),
    to: z.string(),
    overlap: z.enum(['allow', 'buffer']),
    jobs: z.number().int(),
    covered: z.number().int(),
    pending: z.number().int().openapi({ description: 'Jobs not started yet (pending or queued)' }),
    running: z.number().int(),
    completed: z.number().int(),
    failed: z.number().int(),
    canceled: z.number().int(),
    created_at: z.string(),
  })
  .openapi('Backfill');

export function backfillRoutes(deps: BackfillRouteDeps) {
  const app = createRouter();
  const cap = deps.config.CV_BACKFILL_MAX_TICKS;

  app.openapi(
    createRoute({
      method: 'post',
      path: '/workflows/{id}/backfill',
      tags,
      security,
      description: `Every nominal tick of the workflow's schedule in [from, to) runs now as a job with trigger BACKFILL (also ticks before the workflow was created; jitter and the catch-up window do not apply). Ticks an earlier backfill of the workflow fired are left out, so the same range asked twice fires nothing the second time. At most ${cap} ticks (CV_BACKFILL_MAX_TICKS): more is a 422 (backfill_too_large); \`to\` after now is a 422 (backfill_in_future); a terminated workflow is a 409.`,
      request: {
        params: IdParam,
        body: { content: { 'application/json': { schema: BackfillBody } }, required: true },
      },
      responses: {
        201: json(BackfillStarted, 'The ticks were fired as jobs'),
        ...commonErrors,
        409: conflictErrors[409],
      },
    }),
    async (c) => {
      const { id } = c.req.valid('param');
      const body = c.req.valid('json');
      const userId = c.var.userId;
      const w = await findWorkflow(deps.db, userId, id);
      const from = new Date(body.from);
      const to = new Date(body.to);
      if (from >= to)
        throw new ValidationError('invalid_range', '`from` must be before `to`', { field: 'from' });
      const spec = { ...specOf(w.schedule, w.created_at, w.id), before_anchor: true };
      // [from, to) as (from - 1 ms, to - 1 ms]; one more than the cap tells a range that is too long.
      const ticks = ticksBetween(spec, new Date(from.getTime() - 1), new Date(to.getTime() - 1), cap + 1);
      if (ticks.length > cap) {
        throw new ValidationError(
          'backfill_too_large',
          `The range holds more than ${cap} ticks of the schedule; at most ${cap} are backfilled at once (CV_BACKFILL_MAX_TICKS)`,
          { field: 'to', details: { max_ticks: cap } },
        );
      }
      const fromIso = from.toISOString();
      const toIso = to.toISOString();
      const backfillId = nameBasedUuid(`backfill\n${id}\n${fromIso}\n${toIso}`);
      const result = await deps.commands.handle(workflowDecider, {
        commandId: backfillId,
        userId,
        aggregateId: id,
        command: {
          type: 'Backfill',
          data: {
            backfill_id: backfillId,
            from: fromIso,
            to: toIso,
            overlap: body.overlap,
            nominal_ats: ticks.map((t) => t.nominal),
          },
        },
        ...requestOrigin(c),
      });
      const requested = result.events.find((e) => e.type === 'BackfillRequested');
      const jobIds = result.events.flatMap((e) =>
        e.type === 'JobScheduled' ? [(e.data as { job_id: string }).job_id] : [],
      );
      c.header('Location', `/workflows/${id}/backfills`);
      return c.json(
        {
          backfill_id: backfillId,
          jobs: jobIds.length,
          covered: requested ? (requested.data as { covered: number }).covered : ticks.length,
          job_ids: jobIds,
        },
        201,
      );
    },
  );

  app.openapi(
    createRoute({
      method: 'get',
      path: '/workflows/{id}/backfills',
      tags,
      security,
      request: { params: IdParam },
      responses: {
        200: json(
          z.object({ items: z.array(Backfill) }).openapi('BackfillList'),
          'Newest first, with progress',
        ),
        ...commonErrors,
      },
    }),
    async (c) => {
      const { id } = c.req.valid('param');
      await findWorkflow(deps.db, c.var.userId, id);
      const rows = await listBackfills(deps.db, c.var.userId, id);
      return c.json(
        {
          items: rows.map((b) => ({
            id: b.id,
            from: b.range_from.toISOString(),
            to: b.range_to.toISOString(),
            overlap: b.overlap,
            jobs: b.jobs,
            covered: b.covered,
            pending: b.pending,
            running: b.running,
            completed: b.completed,
            failed: b.failed,
            canceled: b.canceled,
            created_at: b.created_at.toISOString(),
          })),
        },
        200,
      );
    },
  );

  return app;
}
