// The job actor as a pure XState machine whose events are the job's domain events (its evolve):
// new → PENDING → QUEUED → RUNNING → COMPLETED | FAILED | CANCELED. A failure that will be retried
// passes through RETRYING (only between JobFailed and JobRetryScheduled of one append) back to QUEUED
// with the next attempt. Guards on `attempt` make events of a stale attempt impossible.

import { assign, type SnapshotFrom, setup } from 'xstate';
import type { FailureKind, FailureReason, JobEvent } from '../events/job-events.ts';
import type { ChainCause, JobTrigger, JsonObject, WorkflowKind } from '../events/workflow-events.ts';
import { fastContext } from './aggregate.ts';

export type JobStatus = 'PENDING' | 'QUEUED' | 'RUNNING' | 'COMPLETED' | 'FAILED' | 'CANCELED';

export type JobContext = {
  readonly job_id: string;
  readonly user_id: string;
  readonly workflow_id: string;
  readonly scheduled_at: string;
  /** With jitter: when the job is to start; absent: at scheduled_at. */
  readonly fire_at?: string;
  readonly backfill_id?: string;
  readonly caused_by?: ChainCause;
  readonly trigger: JobTrigger;
  readonly kind: WorkflowKind;
  readonly payload: JsonObject;
  /** false: the job's lines are not stored (its workflow's setting when the job was created). */
  readonly log_retention: boolean;
  /** The attempt being queued or run; starts at 1. */
  readonly attempt: number;
  readonly executor_id: string | null;
  /** The running attempt's start token (JobStarted.claim), null before a start or in older logs. */
  readonly claim: string | null;
  /** Earliest time the current attempt may be dispatched (set by a retry). */
  readonly not_before: string | null;
  readonly exit_code: number | null;
  readonly image_digest: string | null;
  readonly failure_kind: FailureKind | null;
  readonly failure_reason: FailureReason | null;
  readonly error_message: string | null;
  readonly timed_out: boolean;
  readonly cancel_reason: string | null;
};

const EMPTY_CONTEXT: JobContext = fastContext({
  job_id: '',
  user_id: '',
  workflow_id: '',
  scheduled_at: '',
  trigger: 'AUTOMATIC',
  kind: 'HEARTBEAT',
  payload: {},
  // A JobCreated from before the field existed has none: those jobs kept their lines.
  log_retention: true,
  attempt: 1,
  executor_id: null,
  claim: null,
  not_before: null,
  exit_code: null,
  image_digest: null,
  failure_kind: null,
  failure_reason: null,
  error_message: null,
  timed_out: false,
  cancel_reason: null,
  fire_at: undefined,
  backfill_id: undefined,
  caused_by: undefined,
});

const recordFailure = assign<JobContext, JobEvent, undefined, JobEvent, never>(({ event }) =>
  event.type === 'JobFailed'
    ? {
        failure_kind: event.data.failure_kind,
        failure_reason: event.data.reason,
        error_message: event.data.error_message,
        exit_code: event.data.exit_code ?? null,
        timed_out: event.data.reason === 'timeout',
      }
    : {},
);

const cancel = assign<JobContext, JobEvent, undefined, JobEvent, never>(({ event }) =>
  event.type === 'JobCanceled' ? { cancel_reason: event.data.reason } : {},
);

export const jobMachine = setup({
  types: { context: {} as JobContext, events: {} as JobEvent },
  guards: {
    isCurrentAttempt: ({ context, event }) =>
      'attempt' in event.data && event.data.attempt === context.attempt,
    willRetry: ({ context, event }) =>
      event.type === 'JobFailed' && event.data.attempt === context.attempt && event.data.will_retry,
    isNextAttempt: ({ context, event }) =>
      event.type === 'JobRetryScheduled' && event.data.next_attempt === context.attempt + 1,
  },
}).createMachine({
  id: 'job',
  initial: 'new',
  context: EMPTY_CONTEXT,
  states: {
    new: {
      on: {
        JobCreated: {
          target: 'PENDING',
          actions: assign(({ event }) => ({ ...EMPTY_CONTEXT, ...event.data })),
        },
      },
    },
    PENDING: {
      on: {
        JobQueued: { target: 'QUEUED', guard: 'isCurrentAttempt' },
        JobCanceled: { target: 'CANCELED', actions: cancel },
      },
    },
    QUEUED: {
      on: {
        JobStarted: {
          target: 'RUNNING',
          guard: 'isCurrentAttempt',
          actions: assign(({ event }) => ({
            executor_id: event.data.executor_id,
            claim: event.data.claim ?? null,
          })),
        },
        // An attempt can fail before it starts, e.g. its dispatch was delivered too many times.
        JobFailed: [
          { target: 'RETRYING', guard: 'willRetry', actions: recordFailure },
          { target: 'FAILED', guard: 'isCurrentAttempt', actions: recordFailure },
        ],
        JobCanceled: { target: 'CANCELED', actions: cancel },
      },
    },
    RUNNING: {
      on: {
        JobCompleted: {
          target: 'COMPLETED',
          guard: 'isCurrentAttempt',
          actions: assign(({ event }) => ({
            exit_code: event.data.exit_code ?? null,
            image_digest: event.data.image_digest ?? null,
          })),
        },
        JobFailed: [
          { target: 'RETRYING', guard: 'willRetry', actions: recordFailure },
          { target: 'FAILED', guard: 'isCurrentAttempt', actions: recordFailure },
        ],
        JobCanceled: { target: 'CANCELED', actions: cancel },
      },
    },
    RETRYING: {
      on: {
        JobRetryScheduled: {
          target: 'QUEUED',
          guard: 'isNextAttempt',
          actions: assign(({ event }) => ({
            attempt: event.data.next_attempt,
            not_before: event.data.not_before,
            executor_id: null,
            claim: null,
          })),
        },
      },
    },
    COMPLETED: { type: 'final' },
    FAILED: { type: 'final' },
    CANCELED: { type: 'final' },
  },
});

export type JobMachine = typeof jobMachine;

export type JobSnapshot = SnapshotFrom<JobMachine>;

/** The job's status, or 'new' before JobCreated (RETRYING never outlives one append). */
export function jobStatus(snapshot: JobSnapshot): JobStatus | 'new' | 'RETRYING' {
  return snapshot.value;
}
