// Checks a workflow definition before it becomes an event. The HTTP edge parses requests with a
// schema; these checks keep the aggregate's own invariants (limits from the original) whoever calls.
import { ValidationError } from '../errors.ts';
import type {
  JsonObject,
  SchedulePolicies,
  WorkflowChain,
  WorkflowDefinitionChanges,
  WorkflowKind,
  WorkflowSchedule,
} from '../events/workflow-events.ts';
import { isPlainObject, requireInstant, requireIntegerIn, requireText } from './decision-input.ts';

export const INTERVAL_MINUTES = { min: 1, max: 10_080 } as const;
export const MAX_CONSECUTIVE_FAILURES = { min: 3, max: 100 } as const;
export const NAME_MAX_LENGTH = 255;
export const MAX_RUNS = { min: 1, max: 1_000_000 } as const;
/** The bound that holds for every schedule; the schedule's own period bounds it further (at the edge). */
export const JITTER_SECONDS = { min: 1, max: 604_800 } as const;

export function checkName(name: unknown): string {
  const text = requireText('name', name);
  if (text.length > NAME_MAX_LENGTH) {
    throw new ValidationError('invalid_name', `name must be at most ${NAME_MAX_LENGTH} characters`, {
      field: 'name',
    });
  }
  return text;
}

export function checkKind(kind: unknown): WorkflowKind {
  if (kind !== 'HEARTBEAT' && kind !== 'CONTAINER') {
    throw new ValidationError('invalid_kind', 'kind must be HEARTBEAT or CONTAINER', { field: 'kind' });
  }
  return kind;
}

/** The one field each kind cannot do without; the full payload schema lives at the HTTP edge. */
export function checkPayload(kind: WorkflowKind, payload: unknown): JsonObject {
  const required = kind === 'HEARTBEAT' ? 'endpoint' : 'image';
  if (!isPlainObject(payload) || typeof payload[required] !== 'string' || payload[required] === '') {
    throw new ValidationError('invalid_payload', `a ${kind} payload needs a non-empty ${required}`, {
      field: `payload.${required}`,
    });
  }
  return payload;
}

export function checkSchedule(schedule: unknown): WorkflowSchedule {
  if (!isPlainObject(schedule)) {
    throw new ValidationError('invalid_schedule', 'schedule must be an object', { field: 'schedule' });
  }
  const policies = checkPolicies(schedule);
  if (schedule.type === 'interval') {
    const { min, max } = INTERVAL_MINUTES;
    const minutes = schedule.minutes;
    if (typeof minutes === 'number' && Number.isInteger(minutes) && minutes >= min && minutes <= max) {
      return { type: 'interval', minutes, ...policies };
    }
    throw new ValidationError(
      'invalid_schedule',
      `interval minutes must be an integer from ${min} to ${max}`,
      {
        field: 'schedule.minutes',
      },
    );
  }
  if (schedule.type === 'cron') {
    // The scheduler owns cron parsing (the API checks expressions with it); here only the shape.
    const cron = requireText('schedule.cron', schedule.cron, 'invalid_schedule');
    const timezone = requireText('schedule.timezone', schedule.timezone, 'invalid_schedule');
    return { type: 'cron', cron, timezone, ...policies };
  }
  if (schedule.type === 'at') {
    return { type: 'at', at: requireInstant('schedule.at', schedule.at), ...policies };
  }
  throw new ValidationError('invalid_schedule', 'schedule.type must be interval, cron or at', {
    field: 'schedule.type',
  });
}

const OVERLAP: readonly string[] = ['skip', 'queue_one', 'allow', 'cancel_running'];
const CATCH_UP: readonly string[] = ['latest', 'all', 'none'];

/** The optional policies, checked and copied; unknown values are refused rather than ignored. */
function checkPolicies(s: Record<string, unknown>): SchedulePolicies {
  const out: { -readonly [K in keyof SchedulePolicies]: SchedulePolicies[K] } = {};
  if (s.start_at !== undefined) out.start_at = requireInstant('schedule.start_at', s.start_at);
  if (s.end_at !== undefined) out.end_at = requireInstant('schedule.end_at', s.end_at);
  if (out.start_at && out.end_at && out.end_at < out.start_at) {
    throw new ValidationError('invalid_schedule', 'end_at is before start_at', { field: 'schedule.end_at' });
  }
  if (s.max_runs !== undefined) {
    const { min, max } = MAX_RUNS;
    if (
      !(
        typeof s.max_runs === 'number' &&
        Number.isInteger(s.max_runs) &&
        s.max_runs >= min &&
        s.max_runs <= max
      )
    ) {
      throw new ValidationError('invalid_schedule', `max_runs must be an integer from ${min} to ${max}`, {
        field: 'schedule.max_runs',
      });
    }
    out.max_runs = s.max_runs;
  }
  if (s.jitter_seconds !== undefined) {
    const { min, max } = JITTER_SECONDS;
    const j = s.jitter_seconds;
    if (!(typeof j === 'number' && Number.isInteger(j) && j >= min && j <= max)) {
      throw new ValidationError(
        'invalid_schedule',
        `jitter_seconds must be an integer from ${min} to ${max}`,
        {
          field: 'schedule.jitter_seconds',
        },
      );
    }
    if (s.type === 'at') {
      throw new ValidationError('invalid_schedule', 'a one-off (at) schedule has no jitter', {
        field: 'schedule.jitter_seconds',
      });
    }
    out.jitter_seconds = j;
  }
  if (s.overlap !== undefined) {
    if (!OVERLAP.includes(String(s.overlap))) {
      throw new ValidationError('invalid_schedule', `overlap must be one of ${OVERLAP.join(', ')}`, {
        field: 'schedule.overlap',
      });
    }
    out.overlap = s.overlap as SchedulePolicies['overlap'];
  }
  if (s.catch_up !== undefined) {
    if (!CATCH_UP.includes(String(s.catch_up))) {
      throw new ValidationError('invalid_schedule', `catch_up must be one of ${CATCH_UP.join(', ')}`, {
        field: 'schedule.catch_up',
      });
    }
    out.catch_up = s.catch_up as SchedulePolicies['catch_up'];
  }
  if (s.dst !== undefined) {
    const dst = isPlainObject(s.dst) ? s.dst : {};
    const ok =
      isPlainObject(s.dst) &&
      [undefined, 'shift', 'skip'].includes(dst.nonexistent as string) &&
      [undefined, 'once', 'twice'].includes(dst.repeated as string);
    if (!ok)
      throw new ValidationError(
        'invalid_schedule',
        'dst is {nonexistent: shift|skip, repeated: once|twice}',
        { field: 'schedule.dst' },
      );
    out.dst = {
      ...(dst.nonexistent ? { nonexistent: dst.nonexistent as 'shift' | 'skip' } : {}),
      ...(dst.repeated ? { repeated: dst.repeated as 'once' | 'twice' } : {}),
    };
  }
  return out;
}

export function checkMaxFailures(value: unknown): number {
  const { min, max } = MAX_CONSECUTIVE_FAILURES;
  return requireIntegerIn('max_consecutive_job_failures_allowed', value, min, max);
}

/** Absent means true: keeping a workflow's lines is the default, dropping them is a choice. */
export function checkLogRetention(value: unknown): boolean {
  if (value === undefined) return true;
  if (typeof value !== 'boolean') {
    throw new ValidationError('invalid_log_retention', 'log_retention must be true or false', {
      field: 'log_retention',
    });
  }
  return value;
}

/** Checks every field present in `changes`, for a workflow of `kind`. */
export function checkChanges(
  kind: WorkflowKind,
  changes: WorkflowDefinitionChanges,
): WorkflowDefinitionChanges {
  return {
    ...(changes.name === undefined ? {} : { name: checkName(changes.name) }),
    ...(changes.payload === undefined ? {} : { payload: checkPayload(kind, changes.payload) }),
    ...(changes.schedule === undefined ? {} : { schedule: checkSchedule(changes.schedule) }),
    ...(changes.max_consecutive_job_failures_allowed === undefined
      ? {}
      : {
          max_consecutive_job_failures_allowed: checkMaxFailures(
            changes.max_consecutive_job_failures_allowed,
          ),
        }),
    ...(changes.log_retention === undefined
      ? {}
      : { log_retention: checkLogRetention(changes.log_retention) }),
    ...(changes.chain === undefined ? {} : { chain: checkChain(changes.chain) }),
  };
}

/** The most workflows one outcome may start. */
export const CHAIN_TARGETS_MAX = 20;

/**
 * A chain's shape: lists of workflow ids per outcome, no duplicates within a list. That the ids are
 * the same user's workflows and form no cycle is checked where all of them are known (the API).
 */
export function checkChain(chain: unknown): WorkflowChain {
  if (!isPlainObject(chain)) {
    throw new ValidationError('invalid_chain', 'chain must be an object', { field: 'chain' });
  }
  const out: { -readonly [K in keyof WorkflowChain]: WorkflowChain[K] } = {};
  for (const [key, value] of Object.entries(chain)) {
    if (key !== 'on_success' && key !== 'on_failure' && key !== 'on_end') {
      throw new ValidationError('invalid_chain', 'chain has on_success, on_failure and on_end only', {
        field: `chain.${key}`,
      });
    }
    if (
      !Array.isArray(value) ||
      value.length > CHAIN_TARGETS_MAX ||
      value.some((v) => typeof v !== 'string' || v === '') ||
      new Set(value).size !== value.length
    ) {
      throw new ValidationError(
        'invalid_chain',
        `chain.${key} is a list of at most ${CHAIN_TARGETS_MAX} distinct workflow ids`,
        { field: `chain.${key}` },
      );
    }
    if (value.length > 0) out[key] = [...(value as string[])];
  }
  return out;
}
