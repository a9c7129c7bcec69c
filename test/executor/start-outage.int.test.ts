// The start of an attempt whose answer is lost. On a NATS cluster that loses its stream leader, a
// StartJob can land in the log while the executor is told the append failed. The executor must then
// find its own start and run the attempt, not give the message back (its redelivery would find the
// attempt started, count it lost and run a second attempt). And a start by another executor, asked
// within the log's duplicate window on the dispatcher's stale snapshot, must stay refused.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CommandHandler } from '../../src/actors/command-handler.ts';
import { jobDecider } from '../../src/actors/job-decider.ts';
import { UnavailableError } from '../../src/errors.ts';
import { aggregateHistory } from '../../src/events/history.ts';
import { Executor, startCommand } from '../../src/executor/executor.ts';
import { openRuntime } from '../../src/runtime/runtime.ts';
import { createLogger } from '../../src/telemetry/logger.ts';
import { executorOptions, useExecutorHarness } from '../support/executor-harness.ts';

const h = useExecutorHarness({ withExecutor: false });
let server: Server;
let base: string;
let hits = 0;

beforeAll(async () => {
  server = createServer((_req, res) => {
    hits++;
    res.writeHead(200).end('ok');
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise((r) => server.close(r));
});

/** The runtime's handler, but the first StartJob's answer is lost after its commit lands. */
function losingFirstStartAnswer(commands: CommandHandler): CommandHandler {
  let lost = false;
  return new Proxy(commands, {
    get(target, prop, receiver) {
      if (prop !== 'handle') return Reflect.get(target, prop, receiver);
      return async (...args: Parameters<CommandHandler['handle']>) => {
        const result = await target.handle(...args);
        if (args[1].command.type === 'StartJob' && !lost) {
          lost = true;
          throw new UnavailableError('nats_unavailable', 'append to the job: TIMEOUT (simulated lost ack)');
        }
        return result;
      };
    },
  });
}

const jobHistory = async (jobId: string) =>
  (await aggregateHistory(h.env.runtime.events, h.userId, 'job', jobId, { limit: 100 })).entries.map(
    (e) => e.event,
  );

describe('a start whose answer is lost', () => {
  it('is found as the executor’s own: the attempt runs once, nothing is counted lost', async () => {
    const { nats, docker, commands } = h.env.runtime;
    const executor = new Executor(
      { nats, docker, commands: losingFirstStartAnswer(commands), log: createLogger('test', 'error') },
      executorOptions({ ackWaitMs: 2000 }),
    );
    await executor.start();
    try {
      const wf = await h.createWorkflow('HEARTBEAT', { endpoint: `${base}/lost-answer` });
      const jobId = await h.runNow(wf);
      const job = await h.waitForFinal(jobId, 30_000);
      expect(job).toMatchObject({ status: 'COMPLETED', attempt: 1 });
      const events = await jobHistory(jobId);
      expect(events.filter((e) => e.type === 'JobStarted')).toHaveLength(1);
      expect(events.filter((e) => e.type === 'JobFailed')).toEqual([]);
      expect(hits).toBe(1);
    } finally {
      await executor.stop();
    }
  });
});

describe('a second executor’s start of an attempt already started', () => {
  it('is refused, also within the duplicate window and decided on the dispatcher’s snapshot', async () => {
    const wf = await h.createWorkflow('HEARTBEAT', { endpoint: `${base}/never-run` });
    const jobId = await h.runNow(wf);
    const { commands } = h.env.runtime;
    let queued = await commands.load(jobDecider, h.userId, jobId);
    for (let i = 0; i < 50 && !queued.state.matches('QUEUED'); i++) {
      await new Promise((r) => setTimeout(r, 100));
      queued = await commands.load(jobDecider, h.userId, jobId);
    }
    expect(queued.state.matches('QUEUED')).toBe(true);
    const job = { job_id: jobId, user_id: h.userId, attempt: 1 };
    await commands.handle(jobDecider, startCommand(job, 'exec-a', 'claim-a'));

    // Another process, its cache primed with the job as the dispatcher saw it (QUEUED), as an
    // executor receiving the redelivered message is.
    const other = await openRuntime(h.env.config, 'test');
    try {
      other.commands.prime(jobDecider, h.userId, jobId, queued.version, {
        value: queued.state.value,
        context: queued.state.context,
      } as never);
      await expect(
        other.commands.handle(jobDecider, startCommand(job, 'exec-b', 'claim-b')),
      ).rejects.toMatchObject({ code: 'attempt_not_current' });
      // The first executor's own start, asked again, is answered as done.
      const again = await other.commands.handle(jobDecider, startCommand(job, 'exec-a', 'claim-a'));
      expect(again.events).toEqual([]);
      expect(again.state.context).toMatchObject({ executor_id: 'exec-a', claim: 'claim-a', attempt: 1 });
    } finally {
      await other.close();
    }
    const starts = (await jobHistory(jobId)).filter((e) => e.type === 'JobStarted');
    expect(starts.map((e) => e.data)).toEqual([{ attempt: 1, executor_id: 'exec-a', claim: 'claim-a' }]);
  });
});
