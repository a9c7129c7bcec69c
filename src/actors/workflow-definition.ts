// Checks a workflow definition before it becomes an event. The HTTP edge parses requests with a
// schema; these checks keep the aggregate's own invariants (limits from the original) whoever calls.
import { ValidationError } from '../errors.ts';
import type {
  JsonObject,
  WorkflowDefinitionChanges,
  WorkflowKind,
  WorkflowSchedule,
} from '../events/workflow-events.ts';
import { isPlainObject, requireIntegerIn, requireText } from './decision-input.ts';

export const INTERVAL_MINUTES = { min: 1, max: 10_080 } as const;
export const MAX_CONSECUTIVE_FAILURES = { min: 3, max: 100 } as const;
export const NAME_MAX_LENGTH = 255;

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
  if (isPlainObject(schedule) && schedule.type === 'interval') {
    const { min, max } = INTERVAL_MINUTES;
    const minutes = schedule.minutes;
    if (typeof minutes === 'number' && Number.isInteger(minutes) && minutes >= min && minutes <= max) {
      return { type: 'interval', minutes };
    }
    throw new ValidationError(
      'invalid_schedule',
      `interval minutes must be an integer from ${min} to ${max}`,
      {
        field: 'schedule.minutes',
      },
    );
  }
  if (isPlainObject(schedule) && schedule.type === 'cron') {
    // The scheduler owns cron parsing; here only the shape is checked.
    const cron = requireText('schedule.cron', schedule.cron, 'invalid_schedule');
    const timezone = requireText('schedule.timezone', schedule.timezone, 'invalid_schedule');
    return { type: 'cron', cron, timezone };
  }
  throw new ValidationError('invalid_schedule', 'schedule.type must be interval or cron', {
    field: 'schedule.type',
  });
}

export function checkMaxFailures(value: unknown): number {
  const { min, max } = MAX_CONSECUTIVE_FAILURES;
  return requireIntegerIn('max_consecutive_job_failures_allowed', value, min, max);
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
  };
}
