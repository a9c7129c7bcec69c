// Chains: when a job's end is recorded on its workflow, the workflows that workflow's chain names for
// that outcome are run, each as a job with trigger CHAIN and caused_by naming the job that ended. The
// command id and the chained job's id derive from the event and the target, so a redelivered event
// (a killed reactor) starts nothing twice: within the log's duplicate window the command id repeats,
// while the target remembers the job (active, or among its last 100 ends) it refuses it as known, and
// past both a chained job that exists already is not asked for again. A target that no longer exists
// is recorded as a skip on the parent, and a paused, terminated or unbuilt one records its own skip
// (the workflow actor decides).
import type { CommandHandler } from '../actors/command-handler.ts';
import { jobDecider } from '../actors/job-decider.ts';
import { workflowDecider } from '../actors/workflow-decider.ts';
import { isRefusal, NotFoundError } from '../errors.ts';
import type { EventEnvelope } from '../events/envelope.ts';
import { nameBasedUuid } from '../events/name-based-id.ts';
import { eventSubject } from '../events/subjects.ts';
import type { RecordedJobOutcome, WorkflowChain } from '../events/workflow-events.ts';
import type { Reactor } from './reactor.ts';

/** The workflows a chain runs for an outcome: on_end always, on_success or on_failure by outcome. */
export function chainedTargets(chain: WorkflowChain | undefined, outcome: RecordedJobOutcome): string[] {
  if (!chain) return [];
  const byOutcome = outcome === 'COMPLETED' ? chain.on_success : outcome === 'FAILED' ? chain.on_failure : [];
  return [...new Set([...(byOutcome ?? []), ...(chain.on_end ?? [])])];
}

export function chainReactor(handler: CommandHandler): Reactor {
  const cause = (e: EventEnvelope, step: string) => ({
    commandId: `${e.id}:${step}`,
    userId: e.userId,
    correlationId: e.correlationId,
    causationId: e.id,
  });
  return {
    name: 'reactor_chain',
    subjects: ['cv.evt.*.workflow.>'],
    eventTypes: new Set(['JobOutcomeRecorded']),
    async react(e, sequence) {
      if (e.type !== 'JobOutcomeRecorded') return;
      const parent = await handler.loadAtLeast(workflowDecider, e.userId, e.aggregateId, sequence);
      const targets = chainedTargets(parent.state.context.chain, e.data.outcome);
      if (targets.length === 0) return;
      const job = await handler.load(jobDecider, e.userId, e.data.job_id);
      const caused_by = {
        workflow_id: e.aggregateId,
        job_id: e.data.job_id,
        depth: (job.state.context.caused_by?.depth ?? 0) + 1,
      };
      for (const target of targets) {
        const job_id = nameBasedUuid(`chain\n${e.data.job_id}\n${target}`);
        // A redelivery long after the first reaction (an outage of minutes, a consumer reset): the
        // target may have forgotten the job it ran, but the job's own subject has not.
        if ((await handler.store.lastSequence(eventSubject(e.userId, 'job', job_id))) > 0) continue;
        try {
          await handler.handle(workflowDecider, {
            ...cause(e, `chain:${target}`),
            aggregateId: target,
            command: { type: 'ChainRun', data: { job_id, caused_by } },
          });
        } catch (err) {
          if (err instanceof NotFoundError) {
            await handler.handle(workflowDecider, {
              ...cause(e, `chain-skip:${target}`),
              aggregateId: e.aggregateId,
              command: { type: 'RecordChainSkip', data: { caused_by, target, reason: 'not_found' } },
            });
          } else if (!isRefusal(err)) {
            throw err;
          }
        }
      }
    },
  };
}
