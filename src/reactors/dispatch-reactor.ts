// Publishes one dispatch message per job attempt when the attempt is queued (first attempt) or
// scheduled for retry (later attempts, with their not-before time). Nats-Msg-Id = <jobId>:<attempt>,
// so a redelivered event publishes nothing new; a duplicate past the window is fenced by the actor.
import { headers as natsHeaders } from '@nats-io/transport-node';
import type { CommandHandler } from '../actors/command-handler.ts';
import { type DispatchMessage, dispatchMsgId } from '../actors/dispatch-message.ts';
import { jobDecider } from '../actors/job-decider.ts';
import { dispatchSubject } from '../events/subjects.ts';
import type { Nats } from '../infra/nats-connection.ts';
import { tracedPublish } from '../telemetry/messaging.ts';
import type { Reactor } from './reactor.ts';

export function dispatchReactor(deps: { nats: Nats; commands: CommandHandler; pool: string }): Reactor {
  return {
    name: 'reactor_dispatch',
    subjects: ['cv.evt.*.job.>'],
    eventTypes: new Set(['JobQueued', 'JobRetryScheduled']),
    async react(e, sequence) {
      if (e.type !== 'JobQueued' && e.type !== 'JobRetryScheduled') return;
      const attempt = e.type === 'JobQueued' ? e.data.attempt : e.data.next_attempt;
      // As of this commit or newer; this process usually queued the job itself, so it is cached.
      const loaded = await deps.commands.loadAtLeast(jobDecider, e.userId, e.aggregateId, sequence);
      const job = loaded.state.context;
      const message: DispatchMessage = {
        job_id: e.aggregateId,
        user_id: e.userId,
        workflow_id: job.workflow_id,
        attempt,
        kind: job.kind,
        payload: { ...job.payload },
        log_retention: job.log_retention,
        // A retry waits out its backoff; a scheduled job decided ahead of time waits for its tick.
        not_before:
          e.type === 'JobRetryScheduled'
            ? e.data.not_before
            : job.trigger === 'AUTOMATIC'
              ? (job.fire_at ?? job.scheduled_at)
              : null,
        job_snapshot: { version: loaded.version, value: loaded.state.value, context: job },
      };
      const h = natsHeaders();
      const subject = dispatchSubject(deps.pool);
      const msgID = dispatchMsgId(e.aggregateId, attempt);
      // The dispatch message carries this reaction's trace: the executor's job span is its child.
      await tracedPublish(
        {
          template: subject,
          subject,
          messageId: msgID,
          attributes: { 'chronoverse.job.kind': job.kind, 'chronoverse.job.attempt': attempt },
        },
        h,
        () => deps.nats.js.publish(subject, JSON.stringify(message), { msgID, headers: h }),
      );
    },
  };
}
