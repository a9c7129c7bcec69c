// /workflows: list, create, read, update, pause, resume, terminate, delete, history. Mutations go
// through the workflow actor; reads come from the read model, scoped to the caller.
import { randomUUID } from 'node:crypto';
import { createRoute, z } from '@hono/zod-openapi';
import type { Context } from 'hono';
import { workflowDecider } from '../actors/workflow-decider.ts';
import type { Config } from '../config/config.ts';
import { NotFoundError, ValidationError } from '../errors.ts';
import { aggregateHistory } from '../events/history.ts';
import type { WorkflowChain, WorkflowCommand, WorkflowSchedule } from '../events/workflow-events.ts';
import { loadSecretBox, type SecretBox, sealSecrets } from '../infra/secret-box.ts';
import type { Db } from '../queries/db.ts';
import { mapPage } from '../queries/paging.ts';
import { waitForReadModel } from '../queries/read-your-writes.ts';
import { chainsOf, findWorkflow, listWorkflows, workflowFromLog } from '../queries/workflows.ts';
import { jitterProblem } from '../scheduler/due-times.ts';
import { chainCycle } from '../workflows/chain-graph.ts';
import { ContainerPayload, HeartbeatPayload } from '../workflows/payload-schemas.ts';
import { type AppEnv, createRouter, validationErrorFrom } from './app-env.ts';
import { endpointPolicyOf, refuseBlockedEndpoint } from './endpoint-check.ts';
import { HistoryPage, HistoryQuery, historyJson } from './history-schemas.ts';
import { claimIdempotencyKey } from './idempotency.ts';
import { idempotencyKey, json, security } from './openapi-helpers.ts';
import { commonErrors, conflictErrors } from './problem-schema.ts';
import { requestOrigin } from './require-auth.ts';
import { etag, parseIfMatch, type RouteDeps } from './route-deps.ts';
import {
  Created,
  CreateWorkflowBody,
  IdParam,
  parseUpdate,
  UpdateWorkflowBody,
  Workflow,
  WorkflowListQuery,
  WorkflowPage,
} from './schemas/workflow-schemas.ts';
import { workflowJson } from './serialize.ts';

const tags = ['workflows'];
const IdempotencyHeader = z.object({ 'idempotency-key': idempotencyKey });
const IfMatchHeader = z.object({ 'if-match': z.string().optional() });

/**
 * A chain names workflows of the caller's only, and closes no cycle (which would run for ever): both
 * need every workflow of the user, so they are checked here rather than by the workflow actor.
 */
async function refuseBadChain(
  db: Db,
  userId: string,
  chain: WorkflowChain,
  workflowId?: string,
): Promise<void> {
  const workflows = await chainsOf(db, userId);
  for (const [outcome, ids] of Object.entries(chain) as [string, string[]][]) {
    const unknown = ids.find((t) => t !== workflowId && !workflows.has(t));
    if (unknown) {
      throw new ValidationError(
        'chain_target_not_found',
        `chain.${outcome} names ${unknown}, which is no workflow of yours`,
        {
          field: `chain.${outcome}`,
        },
      );
    }
  }
  if (workflowId === undefined) return;
  const chains = new Map([...workflows].map(([id, w]) => [id, w.chain]));
  const cycle = chainCycle(workflowId, chain, chains);
  if (cycle) {
    const names = cycle.map((id) =>
      id === workflowId ? 'this workflow' : `“${workflows.get(id)?.name ?? id}”`,
    );
    throw new ValidationError('chain_cycle', `The chain would run in a circle: ${names.join(' → ')}`, {
      field: 'chain',
      details: { cycle },
    });
  }
}

/**
 * Jitter is at most the schedule's shortest gap between ticks (so jittered ticks keep their order),
 * a rule between two fields: its own code, invalid_jitter, names the gap.
 */
function refuseJitterBeyondGap(schedule: WorkflowSchedule): void {
  const problem = jitterProblem(schedule, new Date());
  if (problem) throw new ValidationError('invalid_jitter', problem, { field: 'jitter_seconds' });
}

export function workflowRoutes(
  deps: RouteDeps & {
    config: Pick<Config, 'CV_HEARTBEAT_ALLOWED_NETWORKS' | 'CV_SECRETS_KEYS' | 'CV_SECRETS_KEY_DIR'>;
  },
) {
  const app = createRouter();
  const endpoints = endpointPolicyOf(deps.config);
  // Loaded on first use: a key file may have to be made, and most routes never need it.
  let secrets: Promise<SecretBox> | undefined;
  const secretBox = () => (secrets ??= loadSecretBox(deps.config));
  // Named in the create and update bodies' documents (PAYLOAD_BY_KIND), which refer to them by name.
  app.openAPIRegistry.register('HeartbeatPayload', HeartbeatPayload);
  app.openAPIRegistry.register('ContainerPayload', ContainerPayload);

  /** Runs a command on the caller's workflow, waits for the read model, answers with the workflow. */
  async function command(
    c: Context<AppEnv>,
    id: string,
    cmd: WorkflowCommand,
    extra: { expectedVersion?: number; commandId?: string } = {},
  ) {
    const userId = c.var.userId;
    const result = await deps.commands.handle(workflowDecider, {
      commandId: extra.commandId ?? randomUUID(),
      userId,
      aggregateId: id,
      command: cmd,
      ...requestOrigin(c),
      ...(extra.expectedVersion === undefined ? {} : { expectedVersion: extra.expectedVersion }),
    });
    await waitForReadModel(deps.db, result.version, deps.readModelWait);
    return result;
  }

  app.openapi(
    createRoute({
      method: 'get',
      path: '/workflows',
      tags,
      security,
      request: { query: WorkflowListQuery },
      responses: { 200: json(WorkflowPage, 'A page of workflows, newest first'), ...commonErrors },
    }),
    async (c) => {
      const page = await listWorkflows(deps.db, c.var.userId, c.req.valid('query'));
      return c.json(mapPage(page, workflowJson), 200);
    },
  );

  app.openapi(
    createRoute({
      method: 'post',
      path: '/workflows',
      tags,
      security,
      request: {
        headers: IdempotencyHeader,
        body: { content: { 'application/json': { schema: CreateWorkflowBody } }, required: true },
      },
      responses: { 201: json(Created, 'Created'), ...commonErrors, 409: conflictErrors[409] },
    }),
    async (c) => {
      const body = c.req.valid('json');
      const userId = c.var.userId;
      refuseJitterBeyondGap(body.schedule);
      // A new workflow closes no cycle (nothing names it yet): only its targets are checked.
      if (body.chain) await refuseBadChain(deps.db, userId, body.chain);
      if (body.kind === 'HEARTBEAT') await refuseBlockedEndpoint(body.payload, endpoints);
      const payload = body.kind === 'CONTAINER' ? sealSecrets(body.payload, await secretBox()) : body.payload;
      const idem = await claimIdempotencyKey(deps.db, userId, c.req.valid('header')['idempotency-key'], {
        method: 'POST',
        path: '/workflows',
        body,
      });
      const id = idem ? idem.derivedId('workflow') : randomUUID();
      const result = await deps.commands
        .handle(workflowDecider, {
          commandId: idem ? idem.derivedId('create-workflow') : randomUUID(),
          userId,
          aggregateId: id,
          command: { type: 'CreateWorkflow', data: { workflow_id: id, user_id: userId, ...body, payload } },
          ...requestOrigin(c),
        })
        .catch(async (err: unknown) => {
          // A keyed retry of a create that already happened answers as the first one did.
          if (idem && err instanceof Error && 'code' in err && err.code === 'workflow_already_exists') {
            return deps.commands.load(workflowDecider, userId, id);
          }
          throw err;
        });
      await waitForReadModel(deps.db, result.version, deps.readModelWait);
      c.header('ETag', etag(result.version));
      c.header('Location', `/workflows/${id}`);
      return c.json({ id, version: result.version }, 201);
    },
  );

  app.openapi(
    createRoute({
      method: 'get',
      path: '/workflows/{id}',
      tags,
      security,
      request: { params: IdParam },
      responses: { 200: json(Workflow, 'The workflow'), ...commonErrors },
    }),
    async (c) => {
      const row = await findWorkflow(deps.db, c.var.userId, c.req.valid('param').id);
      c.header('ETag', etag(row.version));
      return c.json(workflowJson(row), 200);
    },
  );

  app.openapi(
    createRoute({
      method: 'put',
      path: '/workflows/{id}',
      tags,
      security,
      request: {
        params: IdParam,
        headers: IdempotencyHeader.merge(IfMatchHeader),
        body: { content: { 'application/json': { schema: UpdateWorkflowBody } }, required: true },
      },
      responses: { 200: json(Workflow, 'The updated workflow'), ...commonErrors, ...conflictErrors },
    }),
    async (c) => {
      const { id } = c.req.valid('param');
      const body = c.req.valid('json');
      const headers = c.req.valid('header');
      const userId = c.var.userId;
      const current = await workflowFromLog(deps.commands, userId, id);
      const { changes, issues } = parseUpdate(current.kind, current.schedule, body);
      if (issues.length) throw validationErrorFrom('body', issues);
      if (changes.schedule) refuseJitterBeyondGap(changes.schedule);
      if (changes.chain) await refuseBadChain(deps.db, userId, changes.chain, id);
      if (current.kind === 'HEARTBEAT') await refuseBlockedEndpoint(changes.payload, endpoints);
      if (current.kind === 'CONTAINER' && changes.payload) {
        // A payload that does not name secret_env keeps the secrets it had (a client cannot send
        // back what it was never shown); secret_env: {} removes them; any other replaces them.
        changes.payload = mentionsSecrets(body.payload)
          ? sealSecrets(changes.payload, await secretBox())
          : { ...changes.payload, secret_env: current.payload.secret_env ?? {} };
      }
      const idem = await claimIdempotencyKey(deps.db, userId, headers['idempotency-key'], {
        method: 'PUT',
        path: `/workflows/${id}`,
        body,
      });
      const expectedVersion = parseIfMatch(headers['if-match']);
      const result = await command(
        c,
        id,
        { type: 'UpdateWorkflow', data: changes },
        {
          ...(expectedVersion === undefined ? {} : { expectedVersion }),
          ...(idem ? { commandId: idem.derivedId('update-workflow') } : {}),
        },
      );
      c.header('ETag', etag(result.version));
      return c.json(workflowJson(await findWorkflow(deps.db, userId, id)), 200);
    },
  );

  const lifecycle = [
    ['pause', 'PauseWorkflow'],
    ['resume', 'ResumeWorkflow'],
    ['terminate', 'TerminateWorkflow'],
  ] as const;
  for (const [verb, type] of lifecycle) {
    app.openapi(
      createRoute({
        method: 'post',
        path: `/workflows/{id}/${verb}`,
        tags,
        security,
        request: { params: IdParam, headers: IfMatchHeader },
        responses: { 200: json(Workflow, `The workflow, ${verb}d`), ...commonErrors, ...conflictErrors },
      }),
      async (c) => {
        const { id } = c.req.valid('param');
        const expectedVersion = parseIfMatch(c.req.valid('header')['if-match']);
        const result = await command(
          c,
          id,
          { type, data: {} },
          expectedVersion === undefined ? {} : { expectedVersion },
        );
        c.header('ETag', etag(result.version));
        return c.json(workflowJson(await findWorkflow(deps.db, c.var.userId, id)), 200);
      },
    );
  }

  app.openapi(
    createRoute({
      method: 'delete',
      path: '/workflows/{id}',
      tags,
      security,
      request: { params: IdParam, headers: IfMatchHeader },
      responses: { 204: { description: 'Deleted' }, ...commonErrors, ...conflictErrors },
    }),
    async (c) => {
      const { id } = c.req.valid('param');
      const expectedVersion = parseIfMatch(c.req.valid('header')['if-match']);
      await command(
        c,
        id,
        { type: 'DeleteWorkflow', data: {} },
        expectedVersion === undefined ? {} : { expectedVersion },
      );
      return c.body(null, 204);
    },
  );

  app.openapi(
    createRoute({
      method: 'get',
      path: '/workflows/{id}/history',
      tags,
      security,
      description:
        "The workflow's audit log: every event in order, paged by `after` (the sequence of the last one read). It stays readable to its owner after the workflow is deleted; to anyone else it is a 404.",
      request: { params: IdParam, query: HistoryQuery },
      responses: { 200: json(HistoryPage, "The workflow's events, in order"), ...commonErrors },
    }),
    async (c) => {
      const { id } = c.req.valid('param');
      const q = c.req.valid('query');
      const page = await aggregateHistory(
        deps.events,
        c.var.userId,
        'workflow',
        id,
        { after: q.after ?? 0, limit: q.limit },
        deps.archive,
      );
      if (page.entries.length === 0 && !q.after)
        throw new NotFoundError('workflow_not_found', 'No such workflow');
      return c.json(historyJson(page), 200);
    },
  );

  return app;
}

/** Whether an update's payload (an object, or JSON text) names secret_env at all. */
function mentionsSecrets(payload: unknown): boolean {
  let value = payload;
  if (typeof payload === 'string') {
    try {
      value = JSON.parse(payload);
    } catch {
      return false;
    }
  }
  return typeof value === 'object' && value !== null && 'secret_env' in value;
}
