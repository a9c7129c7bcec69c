// /workflows/{id}/jobs: list, run now, read, cancel, history. Every route checks first that the
// workflow is the caller's, and that the job belongs to that workflow.
import { randomUUID } from 'node:crypto';
import { createRoute, z } from '@hono/zod-openapi';
import { jobDecider } from '../actors/job-decider.ts';
import { workflowDecider } from '../actors/workflow-decider.ts';
import { ConflictError } from '../errors.ts';
import { aggregateHistory } from '../events/history.ts';
import { findJob, jobScheduledAt, listJobs, ownedJobFromLog } from '../queries/jobs.ts';
import { mapPage } from '../queries/paging.ts';
import { waitForJobRow, waitForReadModel } from '../queries/read-your-writes.ts';
import { findWorkflow } from '../queries/workflows.ts';
import { createRouter } from './app-env.ts';
import { HistoryPage, HistoryQuery, historyJson } from './history-schemas.ts';
import { claimIdempotencyKey } from './idempotency.ts';
import { idempotencyKey, json, security } from './openapi-helpers.ts';
import { commonErrors, conflictErrors } from './problem-schema.ts';
import { requestOrigin } from './require-auth.ts';
import { etag, type RouteDeps } from './route-deps.ts';
import { Job, JobListQuery, JobPage, JobParams, Scheduled } from './schemas/job-schemas.ts';
import { IdParam } from './schemas/workflow-schemas.ts';
import { jobJson } from './serialize.ts';

const tags = ['jobs'];
const FINAL = new Set(['COMPLETED', 'FAILED', 'CANCELED']);

export function jobRoutes(deps: RouteDeps) {
  const app = createRouter();

  app.openapi(
    createRoute({
      method: 'get',
      path: '/workflows/{id}/jobs',
      tags,
      security,
      request: { params: IdParam, query: JobListQuery },
      responses: { 200: json(JobPage, 'A page of jobs, newest first'), ...commonErrors },
    }),
    async (c) => {
      const { id } = c.req.valid('param');
      const q = c.req.valid('query');
      await findWorkflow(deps.db, c.var.userId, id);
      const page = await listJobs(deps.db, c.var.userId, id, q);
      return c.json(mapPage(page, jobJson), 200);
    },
  );

  app.openapi(
    createRoute({
      method: 'post',
      path: '/workflows/{id}/jobs/schedule',
      tags,
      security,
      summary: 'Run the workflow now (a MANUAL job)',
      request: { params: IdParam, headers: z.object({ 'idempotency-key': idempotencyKey }) },
      responses: { 201: json(Scheduled, 'The job was scheduled'), ...commonErrors, 409: conflictErrors[409] },
    }),
    async (c) => {
      const { id } = c.req.valid('param');
      const userId = c.var.userId;
      const idem = await claimIdempotencyKey(deps.db, userId, c.req.valid('header')['idempotency-key'], {
        method: 'POST',
        path: `/workflows/${id}/jobs/schedule`,
        body: null,
      });
      const jobId = idem ? idem.derivedId(`run-now:${id}`) : randomUUID();
      const result = await deps.commands.handle(workflowDecider, {
        commandId: idem ? idem.derivedId(`run-now-command:${id}`) : randomUUID(),
        userId,
        aggregateId: id,
        command: { type: 'RunNow', data: { job_id: jobId } },
        ...requestOrigin(c),
      });
      await waitForJobRow(deps.db, userId, jobId, deps.readModelWait);
      // A keyed retry appends nothing: its job is the one the first request scheduled.
      const appended = result.events.find((e) => e.type === 'JobScheduled');
      const scheduledAt = appended
        ? (appended.data as { scheduled_at: string }).scheduled_at
        : await jobScheduledAt(deps.db, jobId);
      c.header('Location', `/workflows/${id}/jobs/${jobId}`);
      return c.json({ job_id: jobId, scheduled_at: scheduledAt }, 201);
    },
  );

  app.openapi(
    createRoute({
      method: 'get',
      path: '/workflows/{id}/jobs/{jobId}',
      tags,
      security,
      request: { params: JobParams },
      responses: { 200: json(Job, 'The job'), ...commonErrors },
    }),
    async (c) => {
      const { id, jobId } = c.req.valid('param');
      const row = await findJob(deps.db, c.var.userId, id, jobId);
      c.header('ETag', etag(row.version));
      // A final job never changes again: the caller may keep it.
      c.header(
        'Cache-Control',
        FINAL.has(row.status) ? 'private, max-age=86400, immutable' : 'private, no-cache',
      );
      return c.json(jobJson(row), 200);
    },
  );

  app.openapi(
    createRoute({
      method: 'post',
      path: '/workflows/{id}/jobs/{jobId}/cancel',
      tags,
      security,
      request: { params: JobParams },
      responses: { 200: json(Job, 'The canceled job'), ...commonErrors, 409: conflictErrors[409] },
    }),
    async (c) => {
      const { id, jobId } = c.req.valid('param');
      const userId = c.var.userId;
      const owned = await ownedJobFromLog(deps.commands, userId, id, jobId, deps.archive);
      // An archived job finished long ago: refused as its actor refuses any change to a final job.
      if (owned.archived) {
        throw new ConflictError('job_already_final', `The job is already ${owned.status} and cannot change`);
      }
      const result = await deps.commands.handle(jobDecider, {
        commandId: randomUUID(),
        userId,
        aggregateId: jobId,
        command: { type: 'CancelJob', data: { reason: 'canceled by the user' } },
        ...requestOrigin(c),
      });
      await waitForReadModel(deps.db, result.version, deps.readModelWait);
      c.header('ETag', etag(result.version));
      return c.json(jobJson(await findJob(deps.db, userId, id, jobId)), 200);
    },
  );

  app.openapi(
    createRoute({
      method: 'get',
      path: '/workflows/{id}/jobs/{jobId}/history',
      tags,
      security,
      request: { params: JobParams, query: HistoryQuery },
      responses: { 200: json(HistoryPage, "The job's events, in order"), ...commonErrors },
    }),
    async (c) => {
      const { id, jobId } = c.req.valid('param');
      const q = c.req.valid('query');
      await ownedJobFromLog(deps.commands, c.var.userId, id, jobId, deps.archive);
      const page = await aggregateHistory(
        deps.events,
        c.var.userId,
        'job',
        jobId,
        { after: q.after ?? 0, limit: q.limit },
        deps.archive,
      );
      return c.json(historyJson(page), 200);
    },
  );

  return app;
}
