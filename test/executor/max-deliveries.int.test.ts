// A dispatch message that no executor manages to finish ends its job as FAILED (SYSTEM
// `max_deliveries`) and leaves the queue, also when nobody handled the server's announcement at the
// instant it was made: the announcement waits in a stream for the next executor.
import { expect, it } from 'vitest';
import { streamNames } from '../../src/events/stream-definitions.ts';
import { dispatchConsumerName, ensureDispatchConsumer } from '../../src/executor/executor.ts';
import { watchMaxDeliveries } from '../../src/executor/recovery.ts';
import { waitUntil } from '../../src/stack/process-control.ts';
import { createLogger } from '../../src/telemetry/logger.ts';
import { useExecutorHarness } from '../support/executor-harness.ts';

const h = useExecutorHarness({ withExecutor: false });

it('ends a job whose dispatch ran out of deliveries, after the fact, and empties the queue', async () => {
  const { nats, commands } = h.env.runtime;
  await ensureDispatchConsumer(nats, { pool: 'default', ackWaitMs: 1000, maxDeliver: 2 });
  const workflowId = await h.createWorkflow('HEARTBEAT', { endpoint: 'http://127.0.0.1:9/never' });
  const jobId = await h.runNow(workflowId);

  // Two "executors" take the message and die without a word (no ack, no nak), then a third asks:
  // the server has nothing to give it and announces the message as exhausted.
  const consumer = await nats.js.consumers.get(streamNames.dispatch, dispatchConsumerName('default'));
  for (let delivery = 1; delivery <= 2; delivery++) {
    const m = await consumer.next({ expires: 10_000 });
    expect(m?.info.deliveryCount).toBe(delivery);
    expect(m?.json<{ job_id: string }>().job_id).toBe(jobId);
  }
  expect(await consumer.next({ expires: 2500 })).toBeNull();
  await waitUntil(
    'the advisory stored',
    async () => (await nats.jsm.streams.info(streamNames.dispatchAdvisories)).state.messages === 1,
    10_000,
  );

  // Only now does an executor listen.
  const watcher = watchMaxDeliveries({ nats, commands, log: createLogger('test', 'error') }, 'default');
  try {
    const job = await h.waitForFinal(jobId, 15_000);
    expect(job).toMatchObject({ status: 'FAILED', failure_kind: 'SYSTEM', failure_reason: 'max_deliveries' });
    await waitUntil(
      'queue and advisories empty',
      async () =>
        (await nats.jsm.streams.info(streamNames.dispatch)).state.messages === 0 &&
        (await nats.jsm.streams.info(streamNames.dispatchAdvisories)).state.messages === 0,
      10_000,
    );
  } finally {
    await watcher.stop();
  }
});
