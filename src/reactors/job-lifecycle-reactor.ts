// Keeps workflows and jobs in step: a scheduled job becomes a job actor and is queued, and the jobs
// it replaces (overlap policy cancel_running) are canceled; a job's end is recorded on its workflow
// (which resets or counts consecutive failures and may terminate).
import type { CommandHandler } from '../actors/command-handler.ts';
import { jobDecider } from '../actors/job-decider.ts';
import { workflowDecider } from '../actors/workflow-decider.ts';
import { AppError } from '../errors.ts';
import type { EventEnvelope } from '../events/envelope.ts';
import type { Reactor } from './reactor.ts';

export function jobLifecycleReactor(handler: CommandHandler): Reactor {
  const cause = (e: EventEnvelope, step: string) => ({
    commandId: `${e.id}:${step}`,
    userId: e.userId,
    correlationId: e.correlationId,
    causationId: e.id,
    ...(e.traceparent ? { traceparent: e.traceparent } : {}),
  });

  return {
    name: 'reactor_job_lifecycle',
    // One filter (see filter-subjects.ts); user events are passed over in react().
    subjects: ['cv.evt.>'],
    eventTypes: new Set(['JobScheduled', 'JobCompleted', 'JobCanceled', 'JobFailed']),
    async react(e, sequence) {
      switch (e.type) {
        case 'JobScheduled': {
          // The definition as of this tick's commit or newer: a later edit applies to this job too.
          const wf = await handler.loadAtLeast(workflowDecider, e.userId, e.aggregateId, sequence);
          const { kind, payload, log_retention } = wf.state.context;
          await handler.handle(jobDecider, {
            // A new command id (was create-job, then queue-job): a redelivery after a crash of the older
            // two-step reaction must still queue, not be taken for the old create.
            ...cause(e, 'create-and-queue-job'),
            aggregateId: e.data.job_id,
            assumeNew: true,
            command: {
              type: 'CreateJob',
              data: {
                job_id: e.data.job_id,
                user_id: e.userId,
                workflow_id: e.aggregateId,
                scheduled_at: e.data.scheduled_at,
                trigger: e.data.trigger,
                kind,
                payload,
                // Fixed for the job's life: a later change of the workflow's setting applies to
                // later jobs, so an attempt never stores part of a log.
                log_retention,
              },
              queue: true,
            },
          });
          // The workflow named the jobs to replace when it fired the tick; a crash before this point
          // redelivers the event and the cancels run then. One refusal (a job that has ended since)
          // must not keep the others running, hence one catch per job.
          for (const jobId of e.data.replaces ?? []) {
            await handler
              .handle(jobDecider, {
                ...cause(e, `replace:${jobId}`),
                aggregateId: jobId,
                command: {
                  type: 'CancelJob',
                  data: {
                    reason: `replaced by the tick of ${e.data.scheduled_at} (overlap policy cancel_running)`,
                  },
                },
              })
              .catch((err: unknown) => {
                if (!(err instanceof AppError)) throw err;
                // Not created yet: its own JobScheduled failed once and waits for redelivery, while this
                // later one ran first. Retry the whole event (create and queue are no-ops the second
                // time) until the job exists and can be canceled; a refusal of any other kind is final.
                if (err.code === 'job_not_found') {
                  throw new Error(`job ${jobId} to replace does not exist yet`, { cause: err });
                }
              });
          }
          return;
        }
        case 'JobCompleted':
        case 'JobCanceled':
        case 'JobFailed': {
          if (e.type === 'JobFailed' && e.data.will_retry) return;
          // Any snapshot of the job will do: its workflow id never changes.
          const job = await handler.loadAtLeast(jobDecider, e.userId, e.aggregateId, 0);
          const outcome =
            e.type === 'JobCompleted' ? 'COMPLETED' : e.type === 'JobFailed' ? 'FAILED' : 'CANCELED';
          await handler.handle(workflowDecider, {
            ...cause(e, 'record-outcome'),
            aggregateId: job.state.context.workflow_id,
            command: { type: 'RecordJobOutcome', data: { job_id: e.aggregateId, outcome } },
          });
          return;
        }
        default:
          return;
      }
    },
  };
}
