// Request and response shapes of the workflow API, as zod schemas: they validate requests and are
// the OpenAPI document, so the two cannot drift. Limits are the original Chronoverse's.
import { z } from '@hono/zod-openapi';
import type { WorkflowSchedule } from '../../events/workflow-events.ts';
import { ContainerPayload, HeartbeatPayload } from '../../workflows/payload-schemas.ts';
import { cronProblem } from '../../workflows/schedule-validation.ts';

export const CronSchedule = z
  .strictObject({ cron: z.string().min(1).max(255), timezone: z.string().min(1).max(64).default('UTC') })
  .openapi('CronSchedule');

const Kind = z.enum(['HEARTBEAT', 'CONTAINER']);

/** The payload arrives as an object, or as a JSON string from the original's clients. */
const PayloadInput = z
  .union([z.record(z.string(), z.unknown()), z.string()])
  .openapi({ description: 'A HeartbeatPayload or ContainerPayload, as an object or a JSON string' });

type AddIssue = (path: PropertyKey[], message: string) => void;
const issuesOf =
  (ctx: z.RefinementCtx): AddIssue =>
  (path, message) =>
    ctx.addIssue({ code: 'custom', path, message });

function parsePayload(
  kind: 'HEARTBEAT' | 'CONTAINER',
  raw: unknown,
  addIssue: AddIssue,
): Record<string, unknown> | undefined {
  let value = raw;
  if (typeof raw === 'string') {
    try {
      value = JSON.parse(raw);
    } catch {
      addIssue(['payload'], 'payload is a string but not JSON');
      return undefined;
    }
  }
  const parsed = (kind === 'HEARTBEAT' ? HeartbeatPayload : ContainerPayload).safeParse(value);
  if (!parsed.success) {
    for (const issue of parsed.error.issues) {
      const unknownKey = issue.code === 'unrecognized_keys' ? issue.keys.slice(0, 1) : [];
      addIssue(['payload', ...issue.path, ...unknownKey], issue.message);
    }
    return undefined;
  }
  return parsed.data;
}

function toSchedule(
  interval: number | undefined,
  schedule: { cron: string; timezone: string } | undefined,
  addIssue: AddIssue,
): WorkflowSchedule | undefined {
  if ((interval === undefined) === (schedule === undefined)) {
    addIssue(['interval'], 'give exactly one of interval (minutes) or schedule ({cron, timezone})');
    return undefined;
  }
  if (interval !== undefined) return { type: 'interval', minutes: interval };
  const { cron, timezone } = schedule!;
  const problem = cronProblem(cron, timezone);
  if (problem) {
    addIssue(['schedule', problem.startsWith('unknown time zone') ? 'timezone' : 'cron'], problem);
    return undefined;
  }
  return { type: 'cron', cron: cron.trim(), timezone };
}

const Interval = z
  .number()
  .int()
  .min(1)
  .max(10_080)
  .openapi({ description: 'Minutes between runs (1 to 10080)' });
const MaxFailures = z.number().int().min(3).max(100);

export const CreateWorkflowBody = z
  .strictObject({
    name: z.string().trim().min(1).max(255),
    kind: Kind,
    payload: PayloadInput,
    interval: Interval.optional(),
    schedule: CronSchedule.optional(),
    max_consecutive_job_failures_allowed: MaxFailures.default(3),
  })
  .transform((body, ctx) => {
    const payload = parsePayload(body.kind, body.payload, issuesOf(ctx));
    const schedule = toSchedule(body.interval, body.schedule, issuesOf(ctx));
    if (!payload || !schedule) return z.NEVER;
    return {
      name: body.name,
      kind: body.kind,
      payload,
      schedule,
      max_consecutive_job_failures_allowed: body.max_consecutive_job_failures_allowed,
    };
  })
  .openapi('CreateWorkflow');

/** PUT replaces what it names; the kind cannot change (a different kind is a different workflow). */
export const UpdateWorkflowBody = z
  .strictObject({
    name: z.string().trim().min(1).max(255).optional(),
    payload: PayloadInput.optional(),
    interval: Interval.optional(),
    schedule: CronSchedule.optional(),
    max_consecutive_job_failures_allowed: MaxFailures.optional(),
  })
  .openapi('UpdateWorkflow');

export type WorkflowChanges = {
  name?: string;
  payload?: Record<string, unknown>;
  schedule?: WorkflowSchedule;
  max_consecutive_job_failures_allowed?: number;
};

/** The payload of an update depends on the workflow's kind, known only once it is loaded. */
export function parseUpdate(
  kind: 'HEARTBEAT' | 'CONTAINER',
  body: z.infer<typeof UpdateWorkflowBody>,
): { changes: WorkflowChanges; issues: { path: PropertyKey[]; message: string }[] } {
  const issues: { path: PropertyKey[]; message: string }[] = [];
  const addIssue: AddIssue = (path, message) => issues.push({ path, message });
  const changes: WorkflowChanges = {};
  if (body.name !== undefined) changes.name = body.name;
  if (body.max_consecutive_job_failures_allowed !== undefined) {
    changes.max_consecutive_job_failures_allowed = body.max_consecutive_job_failures_allowed;
  }
  if (body.payload !== undefined) {
    const payload = parsePayload(kind, body.payload, addIssue);
    if (payload) changes.payload = payload;
  }
  if (body.interval !== undefined || body.schedule !== undefined) {
    const schedule = toSchedule(body.interval, body.schedule, addIssue);
    if (schedule) changes.schedule = schedule;
  }
  if (issues.length === 0 && Object.keys(changes).length === 0) {
    addIssue(
      [],
      'nothing to update: give name, payload, interval, schedule or max_consecutive_job_failures_allowed',
    );
  }
  return { changes, issues };
}

const Timestamp = z.string().openapi({ format: 'date-time' });

export const Workflow = z
  .object({
    id: z.string(),
    name: z.string(),
    kind: Kind,
    payload: z.record(z.string(), z.unknown()),
    interval: z.number().int().nullable(),
    schedule: z.union([
      z.object({ type: z.literal('interval'), minutes: z.number().int() }),
      z.object({ type: z.literal('cron'), cron: z.string(), timezone: z.string() }),
    ]),
    status: z.enum(['ACTIVE', 'PAUSED', 'TERMINATED']),
    build_status: z.enum(['NONE', 'QUEUED', 'STARTED', 'COMPLETED', 'FAILED', 'CANCELED']),
    build_error: z.string().nullable(),
    max_consecutive_job_failures_allowed: z.number().int(),
    consecutive_job_failures: z.number().int(),
    last_fired_at: Timestamp.nullable(),
    terminated_at: Timestamp.nullable(),
    terminated_reason: z.string().nullable(),
    created_at: Timestamp,
    updated_at: Timestamp,
    version: z.number().int(),
  })
  .openapi('Workflow');

export const WorkflowPage = z
  .object({ items: z.array(Workflow), next_cursor: z.string().nullable() })
  .openapi('WorkflowPage');

export const WorkflowListQuery = z.object({
  cursor: z.string().max(512).optional(),
  limit: z.coerce.number().int().min(1).max(100).default(10),
  query: z.string().max(255).optional().openapi({ description: 'Case-insensitive substring of the name' }),
  kind: Kind.optional(),
  build_status: z.enum(['NONE', 'QUEUED', 'STARTED', 'COMPLETED', 'FAILED', 'CANCELED']).optional(),
  status: z.enum(['ACTIVE', 'PAUSED', 'TERMINATED']).optional(),
  interval_min: z.coerce.number().int().min(1).max(10_080).optional(),
  interval_max: z.coerce.number().int().min(1).max(10_080).optional(),
});

export const IdParam = z.object({
  id: z
    .string()
    .uuid()
    .openapi({ param: { name: 'id', in: 'path' } }),
});
export const Created = z.object({ id: z.string(), version: z.number().int() }).openapi('Created');
