// Builds CONTAINER workflows: the image must be present on the engine (found locally, or pulled when
// a registry is reachable; one pull at a time per image). The outcome is a build event on the
// workflow; a failed build carries the reason (and becomes an error notification).
//
// The scheduler's job reactors, which read the whole log anyway, forward each WorkflowBuildQueued to
// the pool's build queue (a work queue beside the dispatch queue); the executors build from there.
// Executors used to read every workflow commit for it (a run-now and a job's end each: four NATS
// messages per job for an event a workflow sees once or twice in its life).
import { headers as natsHeaders } from '@nats-io/transport-node';
import type Docker from 'dockerode';
import type { CommandHandler } from '../actors/command-handler.ts';
import { workflowDecider } from '../actors/workflow-decider.ts';
import { isRefusal } from '../errors.ts';
import { EVENT_TYPES_HEADER, encodeCommit } from '../events/event-store.ts';
import { streamNames } from '../events/stream-definitions.ts';
import { buildQueueFilter, buildQueueSubject, subjectTemplate } from '../events/subjects.ts';
import type { Nats } from '../infra/nats-connection.ts';
import { tracedPublish } from '../telemetry/messaging.ts';
import type { Reactor } from './reactor.ts';

const pulls = new Map<string, Promise<void>>();

async function pullOnce(docker: Docker, image: string): Promise<void> {
  let pending = pulls.get(image);
  if (!pending) {
    pending = new Promise<void>((resolve, reject) => {
      docker.pull(image, (err: Error | null, stream: NodeJS.ReadableStream) => {
        if (err) return reject(err);
        docker.modem.followProgress(stream, (e: Error | null) => (e ? reject(e) : resolve()));
      });
    }).finally(() => pulls.delete(image));
    pulls.set(image, pending);
  }
  return pending;
}

/** The image's digest (or id), pulling it first when it is not on the engine. */
export async function ensureImage(docker: Docker, image: string): Promise<string> {
  try {
    const info = await docker.getImage(image).inspect();
    return info.RepoDigests?.[0] ?? info.Id;
  } catch {
    await pullOnce(docker, image);
    const info = await docker.getImage(image).inspect();
    return info.RepoDigests?.[0] ?? info.Id;
  }
}

/**
 * Forwards each WorkflowBuildQueued to the pool's build queue, as a one-event commit (the builder reads
 * it like the log). The event id is the message id: a redelivered event forwards nothing new.
 */
export function buildRequestReactor(deps: { nats: Nats; pool: string }): Reactor {
  return {
    name: 'build_requests',
    subjects: ['cv.evt.*.workflow.>'],
    eventTypes: new Set(['WorkflowBuildQueued']),
    async react(e) {
      if (e.type !== 'WorkflowBuildQueued') return;
      const h = natsHeaders();
      h.set(EVENT_TYPES_HEADER, e.type);
      const subject = buildQueueSubject(deps.pool, e.aggregateId);
      const msgID = `build:${e.id}`;
      await tracedPublish({ template: subjectTemplate(subject), subject, messageId: msgID }, h, () =>
        deps.nats.js.publish(subject, encodeCommit([e]), { msgID, headers: h }),
      );
    },
  };
}

/** The durable consumer of a pool's build queue, shared by its executors. */
export const builderConsumerName = (pool: string): string => `builder_${pool}`;

export function buildReactor(deps: { docker: Docker; commands: CommandHandler; pool: string }): Reactor {
  return {
    name: builderConsumerName(deps.pool),
    stream: streamNames.dispatch,
    subjects: [buildQueueFilter(deps.pool)],
    eventTypes: new Set(['WorkflowBuildQueued']),
    async react(e) {
      if (e.type !== 'WorkflowBuildQueued') return;
      const request = (step: string) => ({
        commandId: `${e.id}:${step}`,
        userId: e.userId,
        aggregateId: e.aggregateId,
      });
      const ignoreRefusal = (err: unknown) => {
        if (!isRefusal(err)) throw err;
      };
      await deps.commands
        .handle(workflowDecider, { ...request('start'), command: { type: 'StartWorkflowBuild', data: {} } })
        .catch(ignoreRefusal);
      const wf = await deps.commands.load(workflowDecider, e.userId, e.aggregateId);
      const image = String(wf.state.context.payload.image ?? '');
      let outcome:
        | { type: 'CompleteWorkflowBuild'; data: { image_digest: string } }
        | { type: 'FailWorkflowBuild'; data: { reason: string } };
      try {
        outcome = {
          type: 'CompleteWorkflowBuild',
          data: { image_digest: await ensureImage(deps.docker, image) },
        };
      } catch (err) {
        const message =
          (err as { json?: { message?: string } }).json?.message ??
          (err instanceof Error ? err.message : String(err));
        outcome = {
          type: 'FailWorkflowBuild',
          data: { reason: `image ${image} is not available: ${message}` },
        };
      }
      await deps.commands
        .handle(workflowDecider, { ...request('finish'), command: outcome })
        .catch(ignoreRefusal);
    },
  };
}
