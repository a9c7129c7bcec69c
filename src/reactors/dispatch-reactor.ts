// Publishes one dispatch message per job attempt when the attempt is queued (first attempt) or
// scheduled for retry (later attempts, with their not-before time). Nats-Msg-Id = <jobId>:<attempt>,
// so a redelivered event publishes nothing new; a duplicate past the window is fenced by the actor.
// A first attempt queued by the job lifecycle reactor is dispatched by that reaction itself, at once
// (its JobQueued says `dispatched_by_creator`): under a backlog the commit came back to this reactor
// only after everything ahead of it in the scheduler's consumer, a second wait per job.
import { headers as natsHeaders } from '@nats-io/transport-node';
import type { CommandHandler } from '../actors/command-handler.ts';
import { type DispatchMessage, dispatchMsgId } from '../actors/dispatch-message.ts';
import { jobDecider } from '../actors/job-decider.ts';
import type { JobSnapshot } from '../actors/job-machine.ts';
import { dispatchSubject } from '../events/subjects.ts';
import type { Nats } from '../infra/nats-connection.ts';
import { tracedPublish } from '../telemetry/messaging.ts';
import type { Reactor } from './reactor.ts';

export interface DispatchDeps {
  readonly nats: Nats;
  readonly pool: string;
}

/**
 * Publishes the dispatch message of `attempt` of the job in `job` (its state at `version`).
 * `notBefore`: a retry's backoff; otherwise a scheduled job waits for its tick.
 */
export async function publishDispatch(
  deps: DispatchDeps,
  job: {
    readonly userId: string;
    readonly jobId: string;
    readonly state: JobSnapshot;
    readonly version: number;
  },
  attempt: number,
  notBefore?: string,
): Promise<void> {
  const context = job.state.context;
  const message: DispatchMessage = {
    job_id: job.jobId,
    user_id: job.userId,
    workflow_id: context.workflow_id,
    attempt,
    kind: context.kind,
    payload: { ...context.payload },
    log_retention: context.log_retention,
    // A retry waits out its backoff; a scheduled job decided ahead of time waits for its tick.
    not_before:
      notBefore ?? (context.trigger === 'AUTOMATIC' ? (context.fire_at ?? context.scheduled_at) : null),
    job_snapshot: { version: job.version, value: job.state.value, context },
  };
  const h = natsHeaders();
  const subject = dispatchSubject(deps.pool);
  const msgID = dispatchMsgId(job.jobId, attempt);
  // The dispatch message carries this reaction's trace: the executor's job span is its child.
  await tracedPublish(
    {
      template: subject,
      subject,
      messageId: msgID,
      attributes: { 'chronoverse.job.kind': context.kind, 'chronoverse.job.attempt': attempt },
    },
    h,
    () => deps.nats.js.publish(subject, JSON.stringify(message), { msgID, headers: h }),
  );
}

export function dispatchReactor(deps: DispatchDeps & { commands: CommandHandler }): Reactor {
  return {
    name: 'reactor_dispatch',
    subjects: ['cv.evt.*.job.>'],
    eventTypes: new Set(['JobQueued', 'JobRetryScheduled']),
    async react(e, sequence) {
      if (e.type !== 'JobQueued' && e.type !== 'JobRetryScheduled') return;
      if (e.type === 'JobQueued' && e.data.dispatched_by_creator) return;
      // As of this commit or newer; this process usually queued the job itself, so it is cached.
      const loaded = await deps.commands.loadAtLeast(jobDecider, e.userId, e.aggregateId, sequence);
      const job = { userId: e.userId, jobId: e.aggregateId, state: loaded.state, version: loaded.version };
      if (e.type === 'JobQueued') await publishDispatch(deps, job, e.data.attempt);
      else await publishDispatch(deps, job, e.data.next_attempt, e.data.not_before);
    },
  };
}
