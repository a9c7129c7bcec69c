// Request and response shapes of the workflow API, as zod schemas: they validate requests and are
// the OpenAPI document, so the two cannot drift. Limits are the original Chronoverse's.
import { z } from '@hono/zod-openapi';
import type {
  CatchUpPolicy,
  OverlapPolicy,
  WorkflowChain,
  WorkflowSchedule,
} from '../../events/workflow-events.ts';
import { scheduleSpecProblem } from '../../scheduler/schedule.ts';
import { ContainerPayload, HeartbeatPayload } from '../../workflows/payload-schemas.ts';
import { uuidParam } from './id-schemas.ts';

export const CronSchedule = z
  .strictObject({
    cron: z.string().min(1).max(255).openapi({
      format: 'cron',
      description:
        '5 fields (minute hour day-of-month month day-of-week) or 6 (seconds first); ranges, lists, steps, names, L; `+` before the weekday requires both days. An expression that never fires (0 0 30 2 *) is refused. See docs/scheduling.md.',
      example: '*/15 * * * *',
    }),
    timezone: z.string().min(1).max(64).default('UTC').openapi({
      format: 'time-zone',
      description: 'An IANA time zone known to the server (Intl), default UTC',
      example: 'Europe/Berlin',
    }),
  })
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

/** The schedule-related fields of a create or update body. */
interface ScheduleFields {
  interval?: number | undefined;
  schedule?: { cron: string; timezone: string } | undefined;
  at?: string | undefined;
  start_at?: string | undefined;
  end_at?: string | undefined;
  dst?: { nonexistent?: 'shift' | 'skip' | undefined; repeated?: 'once' | 'twice' | undefined } | undefined;
  overlap_policy?: OverlapPolicy | undefined;
  catch_up?: CatchUpPolicy | undefined;
  max_runs?: number | undefined;
  jitter_seconds?: number | undefined;
}

const KIND_FIELDS = ['interval', 'schedule', 'at'] as const;
const POLICY_FIELDS = [
  'start_at',
  'end_at',
  'dst',
  'overlap_policy',
  'catch_up',
  'max_runs',
  'jitter_seconds',
] as const;

export function touchesSchedule(b: ScheduleFields): boolean {
  return [...KIND_FIELDS, ...POLICY_FIELDS].some((f) => b[f] !== undefined);
}

/**
 * The workflow's schedule from the body; `current` (on update) supplies whatever the body leaves
 * out, so an update may change only a policy.
 */
function toSchedule(
  b: ScheduleFields,
  addIssue: AddIssue,
  current?: WorkflowSchedule,
): WorkflowSchedule | undefined {
  const kinds = KIND_FIELDS.filter((f) => b[f] !== undefined);
  if (kinds.length > 1 || (kinds.length === 0 && !current)) {
    addIssue(
      ['interval'],
      'give exactly one of interval (minutes), schedule ({cron, timezone}) or at (one instant)',
    );
    return undefined;
  }
  let base: WorkflowSchedule;
  if (b.interval !== undefined) base = { type: 'interval', minutes: b.interval };
  else if (b.schedule !== undefined)
    base = { type: 'cron', cron: b.schedule.cron.trim(), timezone: b.schedule.timezone };
  else if (b.at !== undefined) base = { type: 'at', at: b.at };
  else {
    const { start_at, end_at, dst, overlap, catch_up, max_runs, jitter_seconds, ...kindOnly } = current!;
    void [start_at, end_at, dst, overlap, catch_up, max_runs, jitter_seconds];
    base = kindOnly as WorkflowSchedule;
  }
  const keep = kinds.length === 0 ? current : undefined;
  const schedule: WorkflowSchedule = {
    ...base,
    ...pick('start_at', b.start_at ?? keep?.start_at),
    ...pick('end_at', b.end_at ?? keep?.end_at),
    ...pick('dst', b.dst ?? keep?.dst),
    ...pick('overlap', b.overlap_policy ?? keep?.overlap),
    ...pick('catch_up', b.catch_up ?? keep?.catch_up),
    ...pick('max_runs', b.max_runs ?? keep?.max_runs),
    ...pick('jitter_seconds', b.jitter_seconds ?? keep?.jitter_seconds),
  };
  const problem = scheduleSpecProblem(schedule);
  if (problem) {
    const field = problem.startsWith('unknown time zone')
      ? ['schedule', 'timezone']
      : schedule.type === 'cron' && !/^(start_at|end_at|at|dst)/.test(problem)
        ? ['schedule', 'cron']
        : [problem.split(/[ .]/)[0] ?? 'schedule'];
    addIssue(field, problem);
    return undefined;
  }
  return schedule;
}

function pick<K extends string, V>(key: K, value: V | undefined): { [P in K]?: V } {
  return (value === undefined ? {} : { [key]: value }) as { [P in K]?: V };
}

const Interval = z
  .number()
  .int()
  .min(1)
  .max(10_080)
  .openapi({ description: 'Minutes between runs (1 to 10080)' });
const MaxFailures = z.number().int().min(3).max(100);
const hasControlCharacter = (v: string): boolean =>
  [...v].some((ch) => {
    const code = ch.codePointAt(0) ?? 0;
    return code < 0x20 || code === 0x7f;
  });
const Name = z
  .string()
  .trim()
  .min(1)
  .max(255)
  .refine((v) => !hasControlCharacter(v), { message: 'a name has no control characters' })
  .openapi({
    description:
      '1 to 255 characters once leading and trailing white space is trimmed; no control characters (U+0000–U+001F, U+007F)',
    pattern: '^[^\\u0000-\\u001F\\u007F]*[^\\s\\u0000-\\u001F\\u007F][^\\u0000-\\u001F\\u007F]*$',
  });
const LogRetention = z.boolean().openapi({
  description:
    "Default true: the jobs' log lines are stored (for CV_LOG_RETENTION_DAYS). false: they are not; the live tail still shows them while a job runs. A change applies to jobs created after it.",
});
const Instant = z.string().max(64).openapi({
  format: 'date-time',
  description: 'RFC 3339 with an offset (Z or ±hh:mm); a date that does not exist (2026-02-30) is refused',
  pattern:
    '^[0-9]{4}-[0-9]{2}-[0-9]{2}[Tt][0-9]{2}:[0-9]{2}:[0-9]{2}(\\.[0-9]+)?([Zz]|[+-][0-9]{2}:[0-9]{2})$',
});

/** Exactly one of interval, schedule or at; the rest are optional policies (see docs/scheduling.md). */
const scheduleFields = {
  interval: Interval.optional(),
  schedule: CronSchedule.optional(),
  at: Instant.optional().openapi({ description: 'Run once, at this instant' }),
  start_at: Instant.optional(),
  end_at: Instant.optional(),
  dst: z
    .strictObject({
      nonexistent: z.enum(['shift', 'skip']).optional(),
      repeated: z.enum(['once', 'twice']).optional(),
    })
    .optional()
    .openapi({ description: 'Spring forward: shift (default) or skip. Fall back: once (default) or twice.' }),
  overlap_policy: z
    .enum(['skip', 'queue_one', 'allow', 'cancel_running'])
    .optional()
    .openapi({ description: 'Default skip' }),
  catch_up: z.enum(['latest', 'all', 'none']).optional().openapi({ description: 'Default latest' }),
  jitter_seconds: z.number().int().min(1).max(604_800).optional().openapi({
    description:
      "Spread each fire over up to this many seconds after its nominal time, by an offset derived from the workflow id and the nominal time (the same on every scheduler replica and restart). At most the schedule's shortest gap between ticks; not for a one-off `at`. The job keeps both times (scheduled_at, fire_at); lateness counts from fire_at; the preview shows jittered times.",
  }),
  max_runs: z.number().int().min(1).max(1_000_000).optional().openapi({
    description:
      'At most this many scheduled fires (run-nows do not count). The fire that reaches it terminates the workflow (terminated_reason run_limit) while its job still runs. Lowering it to what has already fired terminates the workflow at once. Default: no limit.',
  }),
};

const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` });
const payloadAsText = (payload: string) => ({
  type: 'string',
  contentMediaType: 'application/json',
  contentSchema: ref(payload),
  description: `A ${payload} as JSON text, as the original Chronoverse clients sent it`,
});
/** The document's view of `payload`: the kind decides which payload (validated in parsePayload). */
const PAYLOAD_BY_KIND = [
  {
    title: 'HEARTBEAT workflow',
    required: ['kind'],
    properties: {
      kind: { const: 'HEARTBEAT' },
      payload: { anyOf: [ref('HeartbeatPayload'), payloadAsText('HeartbeatPayload')] },
    },
  },
  {
    title: 'CONTAINER workflow',
    required: ['kind'],
    properties: {
      kind: { const: 'CONTAINER' },
      payload: { anyOf: [ref('ContainerPayload'), payloadAsText('ContainerPayload')] },
    },
  },
];
/** toSchedule's rule, as the document states it. */
const EXACTLY_ONE_SCHEDULE_KIND = [
  { title: 'every N minutes', required: ['interval'] },
  { title: 'cron in a time zone', required: ['schedule'] },
  { title: 'once', required: ['at'] },
];

const ChainTargets = z.array(z.uuid()).max(20).optional();
/** Other workflows of the caller's to run when one of this workflow's jobs ends, by outcome. */
const Chain = z
  .strictObject({
    on_success: ChainTargets.openapi({ description: 'Run when a job completes' }),
    on_failure: ChainTargets.openapi({ description: 'Run when a job fails (after its retries)' }),
    on_end: ChainTargets.openapi({
      description: 'Run when a job ends in any way (completed, failed, canceled)',
    }),
  })
  .openapi('WorkflowChain', {
    description:
      "Workflow ids of the caller's, at most 20 per outcome. Each run they start is a job with trigger CHAIN and caused_by naming the job that ended. A chain that would come back to a workflow it started from (a cycle) is refused with 422 chain_cycle naming it; an id that names no workflow of the caller's with 422 chain_target_not_found. A paused, terminated or deleted target is a recorded skip (ChainSkipped in its or the parent's history); runs deeper than 10 in a chain are skipped too.",
  });

export const CreateWorkflowBody = z
  .strictObject({
    name: Name,
    kind: Kind,
    payload: PayloadInput,
    ...scheduleFields,
    max_consecutive_job_failures_allowed: MaxFailures.default(3),
    log_retention: LogRetention.default(true),
    chain: Chain.nullable().optional().openapi({ description: 'null or absent: no chain' }),
  })
  .transform((body, ctx) => {
    const payload = parsePayload(body.kind, body.payload, issuesOf(ctx));
    const schedule = toSchedule(body, issuesOf(ctx));
    if (!payload || !schedule) return z.NEVER;
    return {
      name: body.name,
      kind: body.kind,
      payload,
      schedule,
      max_consecutive_job_failures_allowed: body.max_consecutive_job_failures_allowed,
      log_retention: body.log_retention,
      ...(body.chain ? { chain: body.chain } : {}),
    };
  })
  .openapi('CreateWorkflow', {
    description:
      'A workflow: its kind with the payload of that kind, and exactly one of interval, schedule or at. end_at, if given with start_at, is not before it.',
    allOf: [{ oneOf: PAYLOAD_BY_KIND }, { oneOf: EXACTLY_ONE_SCHEDULE_KIND }],
  } as never);

/** PUT replaces what it names; the kind cannot change (a different kind is a different workflow). */
export const UpdateWorkflowBody = z
  .strictObject({
    name: Name.optional(),
    payload: PayloadInput.optional().openapi({
      description: "The payload of the workflow's kind, as an object or as JSON text",
      anyOf: [
        ref('HeartbeatPayload'),
        ref('ContainerPayload'),
        payloadAsText('HeartbeatPayload'),
        payloadAsText('ContainerPayload'),
      ],
    } as never),
    ...scheduleFields,
    max_consecutive_job_failures_allowed: MaxFailures.optional(),
    log_retention: LogRetention.optional(),
    chain: Chain.nullable().optional().openapi({ description: 'Replaces the chain; null or {} removes it' }),
  })
  .openapi('UpdateWorkflow', {
    description:
      "Replaces the fields it names and keeps the others; an empty body is refused (422, nothing to update). The kind cannot change: payload is the payload of the workflow's kind. At most one of interval, schedule or at; a schedule policy alone (start_at, end_at, dst, overlap_policy, catch_up, max_runs) keeps the schedule and changes that policy.",
    minProperties: 1,
    not: {
      anyOf: [
        { required: ['interval', 'schedule'] },
        { required: ['interval', 'at'] },
        { required: ['schedule', 'at'] },
      ],
    },
  } as never);

export type WorkflowChanges = {
  name?: string;
  payload?: Record<string, unknown>;
  schedule?: WorkflowSchedule;
  max_consecutive_job_failures_allowed?: number;
  log_retention?: boolean;
  chain?: WorkflowChain;
};

/** The payload of an update depends on the workflow's kind, known only once it is loaded. */
export function parseUpdate(
  kind: 'HEARTBEAT' | 'CONTAINER',
  current: WorkflowSchedule,
  body: z.infer<typeof UpdateWorkflowBody>,
): { changes: WorkflowChanges; issues: { path: PropertyKey[]; message: string }[] } {
  const issues: { path: PropertyKey[]; message: string }[] = [];
  const addIssue: AddIssue = (path, message) => issues.push({ path, message });
  const changes: WorkflowChanges = {};
  if (body.name !== undefined) changes.name = body.name;
  if (body.max_consecutive_job_failures_allowed !== undefined) {
    changes.max_consecutive_job_failures_allowed = body.max_consecutive_job_failures_allowed;
  }
  if (body.log_retention !== undefined) changes.log_retention = body.log_retention;
  if (body.chain !== undefined) changes.chain = body.chain ?? {};
  if (body.payload !== undefined) {
    const payload = parsePayload(kind, body.payload, addIssue);
    if (payload) changes.payload = payload;
  }
  if (touchesSchedule(body)) {
    const schedule = toSchedule(body, addIssue, current);
    if (schedule) changes.schedule = schedule;
  }
  if (issues.length === 0 && Object.keys(changes).length === 0) {
    addIssue(
      [],
      'nothing to update: give name, payload, interval, schedule, max_consecutive_job_failures_allowed, log_retention or chain',
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
    schedule: z
      .object({
        type: z.enum(['interval', 'cron', 'at']),
        minutes: z.number().int().optional(),
        cron: z.string().optional(),
        timezone: z.string().optional(),
        at: z.string().optional(),
        start_at: z.string().optional(),
        end_at: z.string().optional(),
        dst: z
          .object({
            nonexistent: z.enum(['shift', 'skip']).optional(),
            repeated: z.enum(['once', 'twice']).optional(),
          })
          .optional(),
        overlap: z.enum(['skip', 'queue_one', 'allow', 'cancel_running']).optional(),
        catch_up: z.enum(['latest', 'all', 'none']).optional(),
        max_runs: z.number().int().optional(),
        jitter_seconds: z.number().int().optional(),
      })
      .openapi('Schedule'),
    status: z.enum(['ACTIVE', 'PAUSED', 'TERMINATED']),
    build_status: z.enum(['NONE', 'QUEUED', 'STARTED', 'COMPLETED', 'FAILED', 'CANCELED']),
    build_error: z.string().nullable(),
    max_consecutive_job_failures_allowed: z.number().int(),
    log_retention: z.boolean().openapi({ description: "false: the jobs' log lines are not stored" }),
    chain: Chain.nullable(),
    consecutive_job_failures: z.number().int(),
    last_fired_at: Timestamp.nullable(),
    terminated_at: Timestamp.nullable(),
    terminated_reason: z
      .string()
      .nullable()
      .openapi({ description: 'user, consecutive_failures or run_limit' }),
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

export const IdParam = z.object({ id: uuidParam('id') });
export const Created = z.object({ id: z.string(), version: z.number().int() }).openapi('Created');
