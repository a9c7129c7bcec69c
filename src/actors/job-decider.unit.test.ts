import { describe, expect, it } from 'vitest';
import { specFor } from '../../test/support/decider-spec.ts';
import {
  canceled,
  completed,
  failed,
  jobCreated,
  queued,
  retryScheduled,
  running,
  started,
} from '../../test/support/job-fixtures.ts';
import { ConflictError, NotFoundError, ValidationError } from '../errors.ts';
import type { JobEvent } from '../events/job-events.ts';
import { evolveAll } from './aggregate.ts';
import { jobDecider } from './job-decider.ts';
import { jobMachine } from './job-machine.ts';

const now = new Date('2026-03-01T12:05:30.000Z');
const given = specFor(jobDecider, { now });
const inSeconds = (s: number) => new Date(now.getTime() + s * 1000).toISOString();
const systemFailure = {
  failure_kind: 'SYSTEM',
  reason: 'executor_lost',
  error_message: 'executor stopped sending progress',
  retryable: true,
} as const;

describe('CreateJob', () => {
  it('creates a PENDING job', () => {
    given([]).when({ type: 'CreateJob', data: jobCreated.data }).then([jobCreated]);
  });

  it('is a no-op when the same job is created again', () => {
    given([jobCreated])
      .when({ type: 'CreateJob', data: { ...jobCreated.data, scheduled_at: '2026-03-01T13:05:00+01:00' } })
      .then([]);
  });

  it('refuses a different job with the same id', () => {
    given([jobCreated])
      .when({ type: 'CreateJob', data: { ...jobCreated.data, workflow_id: 'wf2' } })
      .thenThrows(ConflictError, 'job_already_exists');
  });

  it.each([
    ['a bad scheduled_at', { scheduled_at: 'later' }, 'invalid_timestamp'],
    ['an empty workflow id', { workflow_id: '' }, 'invalid_id'],
    ['an unknown trigger', { trigger: 'CRON' }, 'invalid_trigger'],
    ['an unknown kind', { kind: 'LAMBDA' }, 'invalid_kind'],
    ['a payload that is not an object', { payload: [] }, 'invalid_payload'],
  ])('refuses %s', (_name, override, code) => {
    const data = { ...jobCreated.data, ...override } as typeof jobCreated.data;
    given([]).when({ type: 'CreateJob', data }).thenThrows(ValidationError, code);
  });
});

describe('CreateJob with queue', () => {
  it('creates and queues the first attempt in one decision', () => {
    given([])
      .when({ type: 'CreateJob', data: jobCreated.data, queue: true })
      .then([jobCreated, queued(1)]);
  });

  it('still queues a job created earlier without it, and does nothing once queued', () => {
    given([jobCreated])
      .when({ type: 'CreateJob', data: jobCreated.data, queue: true })
      .then([queued(1)]);
    given([jobCreated, queued(1)])
      .when({ type: 'CreateJob', data: jobCreated.data, queue: true })
      .then([]);
  });

  it('marks the JobQueued when its creator dispatches the attempt itself', () => {
    const marked: JobEvent = { type: 'JobQueued', data: { attempt: 1, dispatched_by_creator: true } };
    given([])
      .when({ type: 'CreateJob', data: jobCreated.data, queue: true, creatorDispatches: true })
      .then([jobCreated, marked]);
    given([jobCreated])
      .when({ type: 'CreateJob', data: jobCreated.data, queue: true, creatorDispatches: true })
      .then([marked]);
    // The machine takes it as any JobQueued.
    expect(evolveAll(jobMachine, [jobCreated, marked]).value).toBe('QUEUED');
  });
});

describe('CreateJob log_retention', () => {
  const { log_retention: _, ...withoutRetention } = jobCreated.data;

  it('is written as true when the command does not name it', () => {
    given([]).when({ type: 'CreateJob', data: withoutRetention }).then([jobCreated]);
  });

  it('keeps false, which the job then carries', () => {
    const noRetention = { ...jobCreated, data: { ...jobCreated.data, log_retention: false } };
    given([]).when({ type: 'CreateJob', data: noRetention.data }).then([noRetention]);
    expect(evolveAll(jobMachine, [noRetention]).context.log_retention).toBe(false);
  });

  it('is true for a job created before the field existed', () => {
    expect(evolveAll(jobMachine, [{ ...jobCreated, data: withoutRetention }]).context.log_retention).toBe(
      true,
    );
  });

  it('refuses anything but a boolean', () => {
    const data = { ...jobCreated.data, log_retention: 'no' } as unknown as typeof jobCreated.data;
    given([]).when({ type: 'CreateJob', data }).thenThrows(ValidationError, 'invalid_log_retention');
  });
});

describe('a job that does not exist', () => {
  it('is not found', () => {
    given([]).when({ type: 'QueueJob', data: {} }).thenThrows(NotFoundError, 'job_not_found');
    given([])
      .when({ type: 'CancelJob', data: { reason: 'user' } })
      .thenThrows(NotFoundError, 'job_not_found');
  });
});

describe('QueueJob', () => {
  it('queues the first attempt of a pending job', () => {
    given([jobCreated])
      .when({ type: 'QueueJob', data: {} })
      .then([queued(1)]);
  });

  it('is a no-op once the job has left PENDING', () => {
    given([jobCreated, queued(1)])
      .when({ type: 'QueueJob', data: {} })
      .then([]);
    given([jobCreated, canceled]).when({ type: 'QueueJob', data: {} }).then([]);
  });
});

describe('StartJob (fencing)', () => {
  it('starts the current attempt of a queued job', () => {
    given([jobCreated, queued(1)])
      .when({ type: 'StartJob', data: { attempt: 1, executor_id: 'exec-a' } })
      .then([started(1, 'exec-a')]);
  });

  it('refuses a redelivered dispatch of a job already running', () => {
    given(running)
      .when({ type: 'StartJob', data: { attempt: 1, executor_id: 'exec-b' } })
      .thenThrows(ConflictError, 'attempt_not_current');
  });

  it('answers a repeated start with its own claim with nothing to do, and refuses any other claim', () => {
    const claimed = { type: 'JobStarted', data: { attempt: 1, executor_id: 'exec-a', claim: 'c1' } } as const;
    given([jobCreated, queued(1)])
      .when({ type: 'StartJob', data: { attempt: 1, executor_id: 'exec-a', claim: 'c1' } })
      .then([claimed]);
    given([jobCreated, queued(1), claimed])
      .when({ type: 'StartJob', data: { attempt: 1, executor_id: 'exec-a', claim: 'c1' } })
      .then([]);
    given([jobCreated, queued(1), claimed])
      .when({ type: 'StartJob', data: { attempt: 1, executor_id: 'exec-a', claim: 'c2' } })
      .thenThrows(ConflictError, 'attempt_not_current');
    // A start without a claim (an older executor) is never taken for another's.
    given(running)
      .when({ type: 'StartJob', data: { attempt: 1, executor_id: 'exec-a' } })
      .thenThrows(ConflictError, 'attempt_not_current');
    // The claim belongs to its attempt: after a retry it starts nothing.
    given([jobCreated, queued(1), claimed, failed(1, { will_retry: true }), retryScheduled(2, inSeconds(1))])
      .when({ type: 'StartJob', data: { attempt: 1, executor_id: 'exec-a', claim: 'c1' } })
      .thenThrows(ConflictError, 'attempt_not_current');
  });

  it('refuses a stale attempt after a retry', () => {
    given([...running, failed(1, { will_retry: true }), retryScheduled(2, inSeconds(1))])
      .when({ type: 'StartJob', data: { attempt: 1, executor_id: 'exec-a' } })
      .thenThrows(ConflictError, 'attempt_not_current');
  });

  it('refuses to start a pending job', () => {
    given([jobCreated])
      .when({ type: 'StartJob', data: { attempt: 1, executor_id: 'exec-a' } })
      .thenThrows(ConflictError, 'attempt_not_current');
  });

  it('refuses a job already final', () => {
    given([jobCreated, queued(1), canceled])
      .when({ type: 'StartJob', data: { attempt: 1, executor_id: 'exec-a' } })
      .thenThrows(ConflictError, 'job_already_final');
  });

  it('refuses an empty executor id', () => {
    given([jobCreated, queued(1)])
      .when({ type: 'StartJob', data: { attempt: 1, executor_id: '' } })
      .thenThrows(ValidationError, 'invalid_id');
  });
});

describe('CompleteJob', () => {
  it('completes the running attempt', () => {
    given(running)
      .when({ type: 'CompleteJob', data: { attempt: 1, exit_code: 0 } })
      .then([completed(1)]);
  });

  it('refuses another attempt, a job not running, or a job already final', () => {
    given(running)
      .when({ type: 'CompleteJob', data: { attempt: 2 } })
      .thenThrows(ConflictError, 'attempt_not_current');
    given([jobCreated, queued(1)])
      .when({ type: 'CompleteJob', data: { attempt: 1 } })
      .thenThrows(ConflictError, 'job_not_running');
    given([...running, completed(1)])
      .when({ type: 'CompleteJob', data: { attempt: 1 } })
      .thenThrows(ConflictError, 'job_already_final');
  });
});

describe('FailJob', () => {
  it('retries a retryable SYSTEM failure with attempts left, after the backoff', () => {
    given(running)
      .when({ type: 'FailJob', data: { attempt: 1, ...systemFailure } })
      .then([failed(1, { will_retry: true }), retryScheduled(2, inSeconds(1))]);
    given([...running, failed(1, { will_retry: true }), retryScheduled(2, inSeconds(1)), started(2)])
      .when({ type: 'FailJob', data: { attempt: 2, ...systemFailure } })
      .then([failed(2, { will_retry: true }), retryScheduled(3, inSeconds(2))]);
  });

  it('fails for good on the last attempt', () => {
    const history: JobEvent[] = [
      ...running,
      failed(1, { will_retry: true }),
      retryScheduled(2, inSeconds(1)),
      started(2),
      failed(2, { will_retry: true }),
      retryScheduled(3, inSeconds(2)),
      started(3),
    ];
    given(history)
      .when({ type: 'FailJob', data: { attempt: 3, ...systemFailure } })
      .then([failed(3)]);
  });

  it('follows the retry policy it is given, capped', () => {
    const retry_policy = { max_attempts: 10, base_ms: 30_000, cap_ms: 45_000 };
    const history: JobEvent[] = [
      ...running,
      failed(1, { will_retry: true }),
      retryScheduled(2, inSeconds(30)),
      started(2),
    ];
    given(history)
      .when({ type: 'FailJob', data: { attempt: 2, ...systemFailure, retry_policy } })
      .then([failed(2, { will_retry: true }), retryScheduled(3, inSeconds(45))]);
  });

  it('never retries a USER failure or a non-retryable one', () => {
    const timeout = {
      failure_kind: 'USER',
      reason: 'timeout',
      error_message: 'timed out after 30s',
      retryable: false,
    } as const;
    given(running)
      .when({ type: 'FailJob', data: { attempt: 1, ...timeout } })
      .then([failed(1, timeout)]);
    given(running)
      .when({ type: 'FailJob', data: { attempt: 1, ...systemFailure, retryable: false } })
      .then([failed(1, { retryable: false })]);
  });

  it('fails a queued attempt that was never started', () => {
    given([jobCreated, queued(1)])
      .when({
        type: 'FailJob',
        data: { attempt: 1, ...systemFailure, reason: 'max_deliveries', retryable: false },
      })
      .then([failed(1, { reason: 'max_deliveries', retryable: false })]);
  });

  it('refuses a stale attempt or a final job', () => {
    given(running)
      .when({ type: 'FailJob', data: { attempt: 2, ...systemFailure } })
      .thenThrows(ConflictError, 'attempt_not_current');
    given([...running, failed(1)])
      .when({ type: 'FailJob', data: { attempt: 1, ...systemFailure } })
      .thenThrows(ConflictError, 'job_already_final');
  });

  it('refuses a failure without kind or reason', () => {
    given(running)
      .when({ type: 'FailJob', data: { attempt: 1, ...systemFailure, failure_kind: 'OTHER' as 'USER' } })
      .thenThrows(ValidationError, 'invalid_failure_kind');
    given(running)
      .when({ type: 'FailJob', data: { attempt: 1, ...systemFailure, reason: '' } })
      .thenThrows(ValidationError, 'invalid_reason');
  });
});

describe('CancelJob', () => {
  it.each([
    ['PENDING', [jobCreated]],
    ['QUEUED', [jobCreated, queued(1)]],
    ['RUNNING', running],
  ] as [string, JobEvent[]][])('cancels a %s job', (_name, history) => {
    given(history)
      .when({ type: 'CancelJob', data: { reason: 'user' } })
      .then([canceled]);
  });

  it.each([
    ['COMPLETED', [...running, completed(1)]],
    ['FAILED', [...running, failed(1)]],
    ['CANCELED', [jobCreated, canceled]],
  ] as [string, JobEvent[]][])('refuses to cancel a %s job', (_name, history) => {
    given(history)
      .when({ type: 'CancelJob', data: { reason: 'user' } })
      .thenThrows(ConflictError, 'job_already_final');
  });

  it('needs a reason', () => {
    given(running)
      .when({ type: 'CancelJob', data: { reason: '' } })
      .thenThrows(ValidationError, 'invalid_reason');
  });
});
