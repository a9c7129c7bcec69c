// CONTAINER workflow builds through the build queue: the scheduler's reactors forward each queued
// build, an executor's builder checks the image on the real Docker engine and records the outcome.
import { describe, expect, it } from 'vitest';
import { workflowDecider } from '../../src/actors/workflow-decider.ts';
import { type WorkflowSnapshot, workflowStatus } from '../../src/actors/workflow-machine.ts';
import { streamNames } from '../../src/events/stream-definitions.ts';
import { builderConsumerName } from '../../src/reactors/build-reactor.ts';
import { waitUntil } from '../../src/stack/process-control.ts';
import { TEST_IMAGE, useExecutorHarness } from '../support/executor-harness.ts';
import { newId } from '../support/fixtures.ts';

const h = useExecutorHarness({ withExecutor: false });

async function createContainerWorkflow(image: string): Promise<string> {
  const id = newId();
  await h.env.runtime.commands.handle(workflowDecider, {
    commandId: newId(),
    userId: h.userId,
    aggregateId: id,
    command: {
      type: 'CreateWorkflow',
      data: {
        workflow_id: id,
        user_id: h.userId,
        name: 'build test',
        kind: 'CONTAINER',
        payload: { image, cmd: ['true'] },
        schedule: { type: 'interval', minutes: 60 },
        max_consecutive_job_failures_allowed: 3,
      },
    },
  });
  return id;
}

async function builtOrFailed(workflowId: string): Promise<WorkflowSnapshot> {
  let state: WorkflowSnapshot | undefined;
  await waitUntil(
    'build ended',
    async () => {
      state = (await h.env.runtime.commands.load(workflowDecider, h.userId, workflowId)).state;
      return ['COMPLETED', 'FAILED'].includes(workflowStatus(state).build);
    },
    20_000,
  );
  return state!;
}

describe('workflow builds', () => {
  it('complete with the image digest when the image is on the engine, and leave the queue empty', async () => {
    const state = await builtOrFailed(await createContainerWorkflow(TEST_IMAGE));
    expect(workflowStatus(state).build).toBe('COMPLETED');
    expect(state.context.image_digest).toMatch(/sha256:/);
    // Acked once built: a work queue keeps nothing behind.
    await waitUntil('build request acked', async () => {
      const info = await h.env.runtime.nats.jsm.consumers.info(
        streamNames.dispatch,
        builderConsumerName('default'),
      );
      return info.num_pending === 0 && info.num_ack_pending === 0;
    });
  });

  it('fail with the reason when the image can be neither found nor pulled', async () => {
    // Nothing listens on port 1: the pull is refused at once.
    const image = '127.0.0.1:1/chronoverse/missing:never';
    const state = await builtOrFailed(await createContainerWorkflow(image));
    expect(workflowStatus(state).build).toBe('FAILED');
    expect(state.context.build_failure_reason).toContain(`image ${image} is not available`);
  });
});
