import { describe, expect, it } from 'vitest';
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
import type { JobEvent } from '../events/job-events.ts';
import { evolveAll } from './aggregate.ts';
import { jobMachine, jobStatus } from './job-machine.ts';

const NB = '2026-03-01T12:06:00.000Z';
const state = (events: readonly JobEvent[]) => evolveAll(jobMachine, events);

describe('job machine', () => {
  it.each([
    ['new', [], 'new'],
    ['created → PENDING', [jobCreated], 'PENDING'],
    ['PENDING → QUEUED', [jobCreated, queued(1)], 'QUEUED'],
    ['QUEUED → RUNNING', running, 'RUNNING'],
    ['RUNNING → COMPLETED', [...running, completed(1)], 'COMPLETED'],
    ['RUNNING → FAILED', [...running, failed(1)], 'FAILED'],
    ['QUEUED → FAILED', [jobCreated, queued(1), failed(1, { reason: 'max_deliveries' })], 'FAILED'],
    ['RUNNING → RETRYING', [...running, failed(1, { will_retry: true })], 'RETRYING'],
    ['RETRYING → QUEUED', [...running, failed(1, { will_retry: true }), retryScheduled(2, NB)], 'QUEUED'],
    ['PENDING → CANCELED', [jobCreated, canceled], 'CANCELED'],
    ['QUEUED → CANCELED', [jobCreated, queued(1), canceled], 'CANCELED'],
    ['RUNNING → CANCELED', [...running, canceled], 'CANCELED'],
  ] as [string, JobEvent[], string][])('%s', (_name, events, status) => {
    expect(jobStatus(state(events))).toBe(status);
  });

  it.each([
    ['queue before creation', [], queued(1)],
    ['create twice', [jobCreated], jobCreated],
    ['start a pending job', [jobCreated], started(1)],
    ['queue attempt 2 first', [jobCreated], queued(2)],
    ['start a stale attempt', [jobCreated, queued(1)], started(2)],
    ['start twice', running, started(1, 'exec-b')],
    ['complete a queued job', [jobCreated, queued(1)], completed(1)],
    ['complete another attempt', running, completed(2)],
    ['fail another attempt', running, failed(2)],
    ['schedule a retry without a failure', running, retryScheduled(2, NB)],
    ['skip an attempt when retrying', [...running, failed(1, { will_retry: true })], retryScheduled(3, NB)],
    ['retry a failed job', [...running, failed(1)], retryScheduled(2, NB)],
    ['cancel while retrying', [...running, failed(1, { will_retry: true })], canceled],
    ['change a completed job', [...running, completed(1)], canceled],
    ['change a canceled job', [jobCreated, canceled], queued(1)],
  ] as [string, JobEvent[], JobEvent][])('cannot %s', (_name, events, event) => {
    expect(state(events).can(event)).toBe(false);
  });

  it('is final once COMPLETED, FAILED or CANCELED', () => {
    expect(state([...running, completed(1)]).status).toBe('done');
    expect(state([...running, failed(1)]).status).toBe('done');
    expect(state([jobCreated, canceled]).status).toBe('done');
  });

  it('keeps what the attempts reported', () => {
    const retried = state([
      ...running,
      failed(1, { will_retry: true, exit_code: 137, reason: 'oom' }),
      retryScheduled(2, NB),
    ]);
    expect(retried.context).toMatchObject({
      ...jobCreated.data,
      attempt: 2,
      not_before: NB,
      executor_id: null,
      failure_kind: 'SYSTEM',
      failure_reason: 'oom',
      exit_code: 137,
      timed_out: false,
    });
    const timedOut = state([
      ...running,
      failed(1, { failure_kind: 'USER', reason: 'timeout', retryable: false }),
    ]);
    expect(timedOut.context).toMatchObject({
      timed_out: true,
      failure_kind: 'USER',
      error_message: expect.any(String),
    });
    expect(
      state([
        ...running,
        { type: 'JobCompleted', data: { attempt: 1, exit_code: 0, image_digest: 'sha256:1' } },
      ]).context,
    ).toMatchObject({ exit_code: 0, image_digest: 'sha256:1', executor_id: 'exec-a' });
    expect(state([...running, canceled]).context.cancel_reason).toBe('user');
  });

  it('runs the second attempt after a retry', () => {
    const second = state([
      ...running,
      failed(1, { will_retry: true }),
      retryScheduled(2, NB),
      started(2, 'exec-b'),
      completed(2),
    ]);
    expect(jobStatus(second)).toBe('COMPLETED');
    expect(second.context.executor_id).toBe('exec-b');
  });
});
