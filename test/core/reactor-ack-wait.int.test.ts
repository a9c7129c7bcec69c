// A reactor's deliveries against real NATS: a reaction slower than the consumer's ack wait is not
// delivered again while it runs (the runner tells the server it is still working); the ack wait is
// short, so a delivery lost with a connection comes again within seconds.
import { afterEach, describe, expect, it } from 'vitest';
import { streamNames } from '../../src/events/stream-definitions.ts';
import { type Reactor, ReactorRunner, type Unfinished } from '../../src/reactors/reactor.ts';
import { waitUntil } from '../../src/stack/process-control.ts';
import { createLogger } from '../../src/telemetry/logger.ts';
import { createHeartbeatWorkflow, newId } from '../support/fixtures.ts';
import { useTestEnvironment } from '../support/test-environment.ts';

const env = useTestEnvironment();
const log = createLogger('test', 'error');
const runners: ReactorRunner[] = [];

afterEach(async () => {
  await Promise.all(runners.splice(0).map((r) => r.stop()));
});

/** A reactor to the WorkflowCreated of one user's workflows, counting its reactions. */
function countingReactor(userId: string, reaction: () => Promise<Unfinished | undefined>) {
  const calls: number[] = [];
  const reactor: Reactor = {
    name: `test_ack_wait_${userId.replaceAll('-', '')}`,
    subjects: [`cv.evt.${userId}.workflow.>`],
    eventTypes: new Set(['WorkflowCreated']),
    async react(e) {
      // Every event of a commit holding one of eventTypes comes here; only that one counts.
      if (e.type !== 'WorkflowCreated') return;
      calls.push(Date.now());
      return reaction();
    },
  };
  return { reactor, calls };
}

async function createWorkflow(userId: string) {
  await createHeartbeatWorkflow(env.runtime.commands, userId, newId());
}

describe('reactor deliveries', () => {
  it('are not delivered again while a reaction longer than the ack wait runs', async () => {
    const userId = newId();
    let finished = 0;
    const { reactor, calls } = countingReactor(userId, async () => {
      await new Promise((r) => setTimeout(r, 4_000));
      finished++;
    });
    const runner = new ReactorRunner(env.runtime.nats, reactor, log, { ackWaitMs: 1_500 });
    runners.push(runner);
    await runner.start();
    await createWorkflow(userId);
    await waitUntil('the reaction finished', async () => finished === 1, 15_000);
    // Past two more ack waits: a delivery the server had given up on would be reacted to again.
    await new Promise((r) => setTimeout(r, 3_500));
    expect(calls).toHaveLength(1);
    const info = await env.runtime.nats.jsm.consumers.info(streamNames.events, reactor.name);
    expect(info.num_ack_pending).toBe(0);
    expect(info.num_redelivered).toBe(0);
  }, 30_000);

  it('wait 10 s for an answer unless told otherwise', async () => {
    const userId = newId();
    const { reactor } = countingReactor(userId, async () => {});
    const runner = new ReactorRunner(env.runtime.nats, reactor, log);
    runners.push(runner);
    await runner.start();
    const info = await env.runtime.nats.jsm.consumers.info(streamNames.events, reactor.name);
    expect(info.config.ack_wait).toBe(10_000 * 1_000_000);
  });

  it('leave an unfinished part without holding a slot, acked when it ends and redelivered when it fails', async () => {
    const userId = newId();
    const rests: { resolve: () => void; reject: (err: Error) => void }[] = [];
    const { reactor, calls } = countingReactor(userId, async () => ({
      rest: new Promise<void>((resolve, reject) => rests.push({ resolve, reject })),
    }));
    // One slot: a rest holding it would keep the second and third commits from being reacted to.
    const runner = new ReactorRunner(env.runtime.nats, reactor, log, { concurrency: 1 });
    runners.push(runner);
    await runner.start();
    for (let i = 0; i < 3; i++) await createWorkflow(userId);
    await waitUntil('all three reacted to while their rests wait', async () => calls.length === 3, 15_000);
    const consumer = () => env.runtime.nats.jsm.consumers.info(streamNames.events, reactor.name);
    expect((await consumer()).num_ack_pending).toBe(3);

    rests[0]!.resolve();
    rests[1]!.resolve();
    await waitUntil('two acked', async () => (await consumer()).num_ack_pending === 1, 15_000);
    expect(calls).toHaveLength(3);

    // A failed rest has its event delivered again (after the retry delay), and it is reacted to anew.
    rests[2]!.reject(new Error('the record could not be written'));
    await waitUntil('the failed one delivered again', async () => calls.length === 4, 15_000);
    rests[3]!.resolve();
    await waitUntil('all acked', async () => (await consumer()).num_ack_pending === 0, 15_000);
    expect(calls).toHaveLength(4);
  }, 40_000);
});
