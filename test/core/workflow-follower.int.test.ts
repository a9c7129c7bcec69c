// Following workflows against real NATS: a process whose command handler follows the workflow
// subjects decides its next command on a snapshot that already holds what another process appended
// meanwhile, so the append does not conflict; without the follower the same sequence conflicts once.
import { afterEach, describe, expect, it } from 'vitest';
import { CommandHandler } from '../../src/actors/command-handler.ts';
import { workflowDecider } from '../../src/actors/workflow-decider.ts';
import { WorkflowFollower } from '../../src/reactors/workflow-follower.ts';
import { waitUntil } from '../../src/stack/process-control.ts';
import { createLogger } from '../../src/telemetry/logger.ts';
import { createHeartbeatWorkflow, newId } from '../support/fixtures.ts';
import { useTestEnvironment } from '../support/test-environment.ts';

const env = useTestEnvironment();
const log = createLogger('test', 'error');
const followers: WorkflowFollower[] = [];

afterEach(async () => {
  await Promise.all(followers.splice(0).map((f) => f.stop()));
});

/** One handler (this process), another (a second process), a workflow both have used. */
async function twoProcessesOnOneWorkflow(follow: boolean) {
  const conflicts: string[] = [];
  const here = new CommandHandler(env.runtime.events, { onConflict: (subject) => conflicts.push(subject) });
  const elsewhere = new CommandHandler(env.runtime.events);
  const follower = new WorkflowFollower(env.runtime.nats, here, log);
  if (follow) {
    followers.push(follower);
    follower.start();
    await follower.ready;
  }
  const [userId, workflowId] = [newId(), newId()];
  const runNow = (handler: CommandHandler) =>
    handler.handle(workflowDecider, {
      commandId: newId(),
      userId,
      aggregateId: workflowId,
      command: { type: 'RunNow', data: { job_id: newId() } },
    });
  await createHeartbeatWorkflow(here, userId, workflowId);
  await runNow(here);
  return { conflicts, follower, runNowHere: () => runNow(here), runNowElsewhere: () => runNow(elsewhere) };
}

describe('a command handler following workflows', () => {
  it("decides on a snapshot that holds another process's commits, without a conflict", async () => {
    const p = await twoProcessesOnOneWorkflow(true);
    for (let i = 0; i < 3; i++) {
      const appended = await p.runNowElsewhere();
      await waitUntil('the commit followed', async () => p.follower.position >= appended.version, 10_000);
      const mine = await p.runNowHere();
      expect(mine.events.map((e) => e.type)).toEqual(['JobScheduled']);
    }
    expect(p.conflicts).toEqual([]);
  });

  it('conflicts without it, as the snapshot is one commit behind', async () => {
    const p = await twoProcessesOnOneWorkflow(false);
    await p.runNowElsewhere();
    await p.runNowHere();
    expect(p.conflicts).toHaveLength(1);
  });
});
