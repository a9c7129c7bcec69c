// Decides the job's commands against its current state. Attempts fence the executors: only the
// current attempt may start, finish or fail, so a redelivered dispatch never runs a job twice.

import { assertNever } from '../assert.ts';
import { ConflictError, NotFoundError, ValidationError } from '../errors.ts';
import type { FailJob, JobCommand, JobEvent } from '../events/job-events.ts';
import { type DecideContext, evolve, makeDecider } from './aggregate.ts';
import { isPlainObject, requireInstant, requireText } from './decision-input.ts';
import { type JobMachine, type JobSnapshot, type JobStatus, jobMachine, jobStatus } from './job-machine.ts';
import { DEFAULT_RETRY_POLICY, retryDelayMs } from './retry-policy.ts';
import { checkLogRetention } from './workflow-definition.ts';

const FINAL: readonly JobStatus[] = ['COMPLETED', 'FAILED', 'CANCELED'];

function decideJob(command: JobCommand, state: JobSnapshot, ctx: DecideContext): readonly JobEvent[] {
  const status = jobStatus(state);
  if (command.type === 'CreateJob') {
    const created = create(command.data, state);
    if (!command.queue) return created;
    // One commit for both: a job is created to be queued at once, and a second append per job was a
    // sixth of the log's traffic under load. A repeated create still queues a job left PENDING.
    const queued = (attempt: number): JobEvent => ({
      type: 'JobQueued',
      data: command.creatorDispatches ? { attempt, dispatched_by_creator: true } : { attempt },
    });
    if (created.length === 0) return status === 'PENDING' ? [queued(state.context.attempt)] : [];
    const after = evolve(jobMachine, state, created[0] as JobEvent);
    return [...created, queued(after.context.attempt)];
  }
  if (status === 'new') throw new NotFoundError('job_not_found', 'The job does not exist');
  if (command.type === 'QueueJob') {
    // Only the first attempt is queued by command (retries queue themselves); a repeat is a no-op.
    return status === 'PENDING' ? [{ type: 'JobQueued', data: { attempt: state.context.attempt } }] : [];
  }
  if (FINAL.includes(status as JobStatus)) {
    throw new ConflictError('job_already_final', `The job is already ${status} and cannot change`);
  }
  const context = state.context;
  switch (command.type) {
    case 'StartJob': {
      const executor_id = requireText('executor_id', command.data.executor_id, 'invalid_id');
      const claim = command.data.claim === undefined ? undefined : requireText('claim', command.data.claim);
      if (
        status === 'RUNNING' &&
        command.data.attempt === context.attempt &&
        claim !== undefined &&
        claim === context.claim
      ) {
        // This very start landed already (its answer was lost): the caller may go on and run it.
        return [];
      }
      if (status !== 'QUEUED' || command.data.attempt !== context.attempt) {
        throw refuseStaleAttempt(command.data.attempt, context.attempt);
      }
      return [
        {
          type: 'JobStarted',
          data: { attempt: command.data.attempt, executor_id, ...(claim === undefined ? {} : { claim }) },
        },
      ];
    }
    case 'CompleteJob':
      if (command.data.attempt !== context.attempt) {
        throw refuseStaleAttempt(command.data.attempt, context.attempt);
      }
      if (status !== 'RUNNING') {
        throw new ConflictError('job_not_running', `The job is ${status}, not RUNNING`);
      }
      return [{ type: 'JobCompleted', data: command.data }];
    case 'FailJob':
      if (command.data.attempt !== context.attempt) {
        throw refuseStaleAttempt(command.data.attempt, context.attempt);
      }
      if (status !== 'RUNNING' && status !== 'QUEUED') {
        throw new ConflictError('job_not_running', `The job is ${status}, not QUEUED or RUNNING`);
      }
      return fail(command.data, ctx);
    case 'CancelJob':
      return [{ type: 'JobCanceled', data: { reason: requireText('reason', command.data.reason) } }];
    default:
      return assertNever(command);
  }
}

function create(
  data: Extract<JobCommand, { type: 'CreateJob' }>['data'],
  state: JobSnapshot,
): readonly JobEvent[] {
  const scheduled_at = requireInstant('scheduled_at', data.scheduled_at);
  if (jobStatus(state) !== 'new') {
    // Job ids derive from (workflow, nominal time), so a repeated create of the same job is a no-op.
    const same =
      state.context.workflow_id === data.workflow_id && state.context.scheduled_at === scheduled_at;
    if (same) return [];
    throw new ConflictError('job_already_exists', 'A different job already has this id');
  }
  if (!['AUTOMATIC', 'MANUAL', 'BACKFILL', 'CHAIN'].includes(data.trigger)) {
    throw new ValidationError('invalid_trigger', 'trigger must be AUTOMATIC, MANUAL, BACKFILL or CHAIN', {
      field: 'trigger',
    });
  }
  if (data.kind !== 'HEARTBEAT' && data.kind !== 'CONTAINER') {
    throw new ValidationError('invalid_kind', 'kind must be HEARTBEAT or CONTAINER', { field: 'kind' });
  }
  if (!isPlainObject(data.payload)) {
    throw new ValidationError('invalid_payload', 'payload must be an object', { field: 'payload' });
  }
  return [
    {
      type: 'JobCreated',
      data: {
        ...data,
        job_id: requireText('job_id', data.job_id, 'invalid_id'),
        user_id: requireText('user_id', data.user_id, 'invalid_id'),
        workflow_id: requireText('workflow_id', data.workflow_id, 'invalid_id'),
        scheduled_at,
        ...(data.fire_at === undefined ? {} : { fire_at: requireInstant('fire_at', data.fire_at) }),
        log_retention: checkLogRetention(data.log_retention),
      },
    },
  ];
}

/** A retryable SYSTEM failure with attempts left is followed by the retry, in the same append. */
function fail(data: FailJob['data'], ctx: DecideContext): readonly JobEvent[] {
  const { retry_policy = DEFAULT_RETRY_POLICY, ...failure } = data;
  if (failure.failure_kind !== 'USER' && failure.failure_kind !== 'SYSTEM') {
    throw new ValidationError('invalid_failure_kind', 'failure_kind must be USER or SYSTEM', {
      field: 'failure_kind',
    });
  }
  requireText('reason', failure.reason);
  const will_retry =
    failure.failure_kind === 'SYSTEM' && failure.retryable && failure.attempt < retry_policy.max_attempts;
  const failed: JobEvent = { type: 'JobFailed', data: { ...failure, will_retry } };
  if (!will_retry) return [failed];
  const not_before = new Date(ctx.now.getTime() + retryDelayMs(failure.attempt, retry_policy)).toISOString();
  return [failed, { type: 'JobRetryScheduled', data: { next_attempt: failure.attempt + 1, not_before } }];
}

function refuseStaleAttempt(attempt: number, current: number): ConflictError {
  return new ConflictError(
    'attempt_not_current',
    `Attempt ${attempt} is not the job's current attempt (${current})`,
    {
      details: { attempt, current_attempt: current },
    },
  );
}

export const jobDecider = makeDecider<JobMachine, JobCommand>('job', jobMachine, decideJob);
