// Events that workflow specs start from (test support, not production code).
import type { RecordedJobOutcome, WorkflowCreated, WorkflowEvent } from '../../src/events/workflow-events.ts';

export const containerCreated: WorkflowCreated = {
  type: 'WorkflowCreated',
  data: {
    workflow_id: 'wf1',
    user_id: 'u1',
    name: 'nightly',
    kind: 'CONTAINER',
    payload: { image: 'alpine:3.20', cmd: ['echo', 'hi'] },
    schedule: { type: 'interval', minutes: 5 },
    max_consecutive_job_failures_allowed: 3,
    log_retention: true,
  },
};

export const heartbeatCreated: WorkflowCreated = {
  type: 'WorkflowCreated',
  data: {
    ...containerCreated.data,
    name: 'ping',
    kind: 'HEARTBEAT',
    payload: { endpoint: 'https://example.com/health' },
  },
};

export const buildQueued: WorkflowEvent = { type: 'WorkflowBuildQueued', data: {} };
export const buildStarted: WorkflowEvent = { type: 'WorkflowBuildStarted', data: {} };
export const buildCompleted: WorkflowEvent = { type: 'WorkflowBuildCompleted', data: {} };
export const paused: WorkflowEvent = { type: 'WorkflowPaused', data: {} };
export const resumed: WorkflowEvent = { type: 'WorkflowResumed', data: {} };
export const terminatedByUser: WorkflowEvent = { type: 'WorkflowTerminated', data: { reason: 'user' } };
export const deleted: WorkflowEvent = { type: 'WorkflowDeleted', data: {} };

/** A CONTAINER workflow whose build completed: ready to fire. */
export const builtContainer: readonly WorkflowEvent[] = [
  containerCreated,
  buildQueued,
  buildStarted,
  buildCompleted,
];

export function fired(job_id: string, scheduled_at: string): WorkflowEvent {
  return { type: 'JobScheduled', data: { job_id, scheduled_at, trigger: 'AUTOMATIC' } };
}

export function ranNow(job_id: string, scheduled_at: string): WorkflowEvent {
  return { type: 'JobScheduled', data: { job_id, scheduled_at, trigger: 'MANUAL' } };
}

export function outcomeRecorded(
  job_id: string,
  outcome: RecordedJobOutcome,
  consecutive_failures: number,
): WorkflowEvent {
  return { type: 'JobOutcomeRecorded', data: { job_id, outcome, consecutive_failures } };
}
