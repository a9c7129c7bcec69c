// Events that job specs start from (test support, not production code).
import type { JobCreated, JobEvent, JobFailed } from '../../src/events/job-events.ts';

export const jobCreated: JobCreated = {
  type: 'JobCreated',
  data: {
    job_id: 'j1',
    user_id: 'u1',
    workflow_id: 'wf1',
    scheduled_at: '2026-03-01T12:05:00.000Z',
    trigger: 'AUTOMATIC',
    kind: 'CONTAINER',
    payload: { image: 'alpine:3.20' },
    log_retention: true,
  },
};

export const queued = (attempt = 1): JobEvent => ({ type: 'JobQueued', data: { attempt } });
export const started = (attempt = 1, executor_id = 'exec-a'): JobEvent => ({
  type: 'JobStarted',
  data: { attempt, executor_id },
});
export const completed = (attempt = 1): JobEvent => ({
  type: 'JobCompleted',
  data: { attempt, exit_code: 0 },
});
export const canceled: JobEvent = { type: 'JobCanceled', data: { reason: 'user' } };

export function failed(attempt: number, overrides: Partial<JobFailed['data']> = {}): JobFailed {
  return {
    type: 'JobFailed',
    data: {
      attempt,
      failure_kind: 'SYSTEM',
      reason: 'executor_lost',
      error_message: 'executor stopped sending progress',
      retryable: true,
      will_retry: false,
      ...overrides,
    },
  };
}

export const retryScheduled = (next_attempt: number, not_before: string): JobEvent => ({
  type: 'JobRetryScheduled',
  data: { next_attempt, not_before },
});

/** Running its first attempt. */
export const running: readonly JobEvent[] = [jobCreated, queued(1), started(1)];
