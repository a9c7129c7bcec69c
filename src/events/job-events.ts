// The job aggregate's events and commands: one union each, past-tense events, imperative commands.
import type { ChainCause, JobTrigger, JsonObject, WorkflowKind } from './workflow-events.ts';

export type FailureKind = 'USER' | 'SYSTEM';
/** Why an attempt failed; the known reasons are listed, executors may report others. */
export type FailureReason =
  | 'exit_code'
  | 'timeout'
  | 'oom'
  | 'status_mismatch'
  | 'executor_lost'
  | 'max_deliveries'
  | 'endpoint_not_allowed'
  | (string & {});

/** Capped exponential backoff: attempt n waits min(cap_ms, base_ms * 2^(n-1)). */
export type RetryPolicy = {
  readonly max_attempts: number;
  readonly base_ms: number;
  readonly cap_ms: number;
};

export type JobCreated = {
  readonly type: 'JobCreated';
  readonly data: {
    readonly job_id: string;
    readonly user_id: string;
    readonly workflow_id: string;
    readonly scheduled_at: string;
    /** With the schedule's jitter: when the job is to start (scheduled_at plus the offset). */
    readonly fire_at?: string;
    /** Trigger BACKFILL: the backfill that fired it. */
    readonly backfill_id?: string;
    /** Trigger CHAIN: the job whose end started it. */
    readonly caused_by?: ChainCause;
    readonly trigger: JobTrigger;
    readonly kind: WorkflowKind;
    readonly payload: JsonObject;
    /**
     * The workflow's `log_retention` when the job was created: false means the job's lines are not
     * stored. Absent (events from before the field existed) means true.
     */
    readonly log_retention?: boolean;
  };
};
export type JobQueued = {
  readonly type: 'JobQueued';
  readonly data: {
    readonly attempt: number;
    /**
     * The reaction that created and queued the job publishes this attempt's dispatch itself, right
     * after the commit (and again on a redelivery): the dispatch reactor leaves it alone. Absent: the
     * dispatch reactor dispatches it (a job released later, and every commit from before the field).
     */
    readonly dispatched_by_creator?: true;
  };
};
export type JobStarted = {
  readonly type: 'JobStarted';
  readonly data: {
    readonly attempt: number;
    readonly executor_id: string;
    /**
     * A token the starting executor picked for this one start: when the answer to its StartJob is
     * lost (an outage), its retry finds the start it made instead of a start by someone else.
     * Absent in older events.
     */
    readonly claim?: string;
  };
};
export type JobCompleted = {
  readonly type: 'JobCompleted';
  readonly data: { readonly attempt: number; readonly exit_code?: number; readonly image_digest?: string };
};
/** `retryable` describes the failure; `will_retry` says a JobRetryScheduled follows in the same append. */
export type JobFailed = {
  readonly type: 'JobFailed';
  readonly data: {
    readonly attempt: number;
    readonly failure_kind: FailureKind;
    readonly reason: FailureReason;
    readonly exit_code?: number;
    readonly error_message: string;
    readonly retryable: boolean;
    readonly will_retry: boolean;
  };
};
export type JobRetryScheduled = {
  readonly type: 'JobRetryScheduled';
  readonly data: { readonly next_attempt: number; readonly not_before: string };
};
export type JobCanceled = { readonly type: 'JobCanceled'; readonly data: { readonly reason: string } };

export type JobEvent =
  | JobCreated
  | JobQueued
  | JobStarted
  | JobCompleted
  | JobFailed
  | JobRetryScheduled
  | JobCanceled;

export type CreateJob = {
  readonly type: 'CreateJob';
  readonly data: JobCreated['data'];
  /** Queue the first attempt in the same commit (what the job lifecycle reactor does). */
  readonly queue?: boolean;
  /** With `queue`: the caller publishes the queued attempt's dispatch itself (JobQueued says so). */
  readonly creatorDispatches?: boolean;
};
export type QueueJob = { readonly type: 'QueueJob'; readonly data: Record<string, never> };
export type StartJob = { readonly type: 'StartJob'; readonly data: JobStarted['data'] };
export type CompleteJob = { readonly type: 'CompleteJob'; readonly data: JobCompleted['data'] };
export type FailJob = {
  readonly type: 'FailJob';
  readonly data: Omit<JobFailed['data'], 'will_retry'> & { readonly retry_policy?: RetryPolicy };
};
export type CancelJob = { readonly type: 'CancelJob'; readonly data: { readonly reason: string } };

export type JobCommand = CreateJob | QueueJob | StartJob | CompleteJob | FailJob | CancelJob;
