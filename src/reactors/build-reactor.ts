// Builds CONTAINER workflows: the image must be present on the engine (found locally, or pulled when
// a registry is reachable; one pull at a time per image). The outcome is a build event on the
// workflow; a failed build carries the reason (and becomes an error notification).
import type Docker from 'dockerode';
import type { CommandHandler } from '../actors/command-handler.ts';
import { workflowDecider } from '../actors/workflow-decider.ts';
import { AppError } from '../errors.ts';
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

export function buildReactor(deps: { docker: Docker; commands: CommandHandler }): Reactor {
  return {
    name: 'reactor_build',
    subjects: ['cv.evt.*.workflow.>'],
    eventTypes: new Set(['WorkflowBuildQueued']),
    async react(e) {
      if (e.type !== 'WorkflowBuildQueued') return;
      const request = (step: string) => ({
        commandId: `${e.id}:${step}`,
        userId: e.userId,
        aggregateId: e.aggregateId,
      });
      const ignoreRefusal = (err: unknown) => {
        if (!(err instanceof AppError)) throw err;
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
