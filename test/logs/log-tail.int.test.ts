// The live tail's handover between ClickHouse and the live buffer, on real NATS and ClickHouse: lines
// the buffer no longer holds (max age, here a purge) come from ClickHouse, the rest from CV_LOGS,
// with no gap and no duplicate, then `end` once the job is final; an aborted tail releases its
// consumer and subscription.
import { describe, expect, it } from 'vitest';
import { jobDecider } from '../../src/actors/job-decider.ts';
import type { JobCommand } from '../../src/events/job-events.ts';
import { streamNames } from '../../src/events/stream-definitions.ts';
import { logSubject } from '../../src/events/subjects.ts';
import { type FinalJobStatus, tailJobLog } from '../../src/http/sse-log-tail.ts';
import type { LogBatch } from '../../src/logs/log-batch.ts';
import { logRows } from '../../src/logs/log-rows.ts';
import {
  type LogKey,
  LogQueries,
  type LogScope,
  type ServedLogLine,
  ZERO_KEY,
} from '../../src/queries/logs.ts';
import { waitUntil } from '../../src/stack/process-control.ts';
import { createLogger } from '../../src/telemetry/logger.ts';
import { newId } from '../support/fixtures.ts';
import { useTestEnvironment } from '../support/test-environment.ts';

const env = useTestEnvironment();
const log = createLogger('test', 'error');

async function runningJob(): Promise<LogScope> {
  const scope = { userId: newId(), workflowId: newId(), jobId: newId() };
  const run = (command: JobCommand) =>
    env.runtime.commands.handle(jobDecider, {
      commandId: newId(),
      userId: scope.userId,
      aggregateId: scope.jobId,
      command,
    });
  await run({
    type: 'CreateJob',
    data: {
      job_id: scope.jobId,
      user_id: scope.userId,
      workflow_id: scope.workflowId,
      scheduled_at: new Date().toISOString(),
      trigger: 'MANUAL',
      kind: 'CONTAINER',
      payload: {},
    },
  });
  await run({ type: 'QueueJob', data: {} });
  await run({ type: 'StartJob', data: { attempt: 1, executor_id: 'test' } });
  return scope;
}

async function complete(scope: LogScope): Promise<void> {
  await env.runtime.commands.handle(jobDecider, {
    commandId: newId(),
    userId: scope.userId,
    aggregateId: scope.jobId,
    command: { type: 'CompleteJob', data: { attempt: 1 } },
  });
}

/** Publishes lines [from, to] in batches of 50 to the live buffer; stores them in ClickHouse too if asked. */
async function ship(scope: LogScope, from: number, to: number, store: boolean): Promise<number[]> {
  const seqs: number[] = [];
  for (let start = from; start <= to; start += 50) {
    const batch: LogBatch = {
      workflow_id: scope.workflowId,
      job_id: scope.jobId,
      attempt: 1,
      lines: Array.from({ length: Math.min(50, to - start + 1) }, (_, i) => ({
        seq: start + i,
        stream: 'stdout' as const,
        ts: Date.now(),
        line: `line ${start + i}`,
      })),
    };
    const subject = logSubject(scope.userId, scope.jobId);
    const ack = await env.runtime.nats.js.publish(subject, JSON.stringify(batch));
    seqs.push(ack.seq);
    if (store)
      await env.runtime.clickhouse.insert({
        table: `${env.config.CLICKHOUSE_DATABASE}.job_logs`,
        values: logRows(subject, batch),
        format: 'JSONEachRow',
      });
  }
  return seqs;
}

function tail(scope: LogScope, from: LogKey = ZERO_KEY, signal = new AbortController().signal) {
  const lines: ServedLogLine[] = [];
  let end: FinalJobStatus | undefined;
  const done = tailJobLog(
    {
      nats: env.runtime.nats,
      commands: env.runtime.commands,
      queries: new LogQueries(env.runtime.clickhouse, env.config.CLICKHOUSE_DATABASE),
      log,
    },
    scope,
    from,
    {
      async line(l) {
        if (end) throw new Error('a line after end');
        lines.push(l);
      },
      async end(status) {
        end = status;
      },
    },
    signal,
  );
  return { lines, done, end: () => end };
}

const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => from + i);

describe('log tail handover', () => {
  it('fills what the buffer lost from ClickHouse, then follows the buffer live, then ends', async () => {
    const scope = await runningJob();
    const seqs = await ship(scope, 1, 300, true);
    // Lines 1–200 are gone from the buffer (as after its max age); ClickHouse has them.
    await env.runtime.nats.jsm.streams.purge(streamNames.logs, {
      filter: logSubject(scope.userId, scope.jobId),
      seq: seqs[4]!,
    });
    const fromStart = tail(scope);
    const resumed = tail(scope, { attempt: 1, sequence: 150 });
    await waitUntil(
      'history sent',
      async () => fromStart.lines.length >= 300 && resumed.lines.length >= 150,
      10_000,
    );
    await ship(scope, 301, 420, false);
    await complete(scope);
    await Promise.all([fromStart.done, resumed.done]);
    expect(fromStart.lines.map((l) => l.sequence_num)).toEqual(range(1, 420));
    expect(resumed.lines.map((l) => l.sequence_num)).toEqual(range(151, 420));
    expect(fromStart.end()).toBe('COMPLETED');
    expect(resumed.end()).toBe('COMPLETED');
    expect(fromStart.lines[0]).toMatchObject({ message: 'line 1', stream: 'stdout', attempt: 1 });
  });

  it('streams a final job whose buffer is empty from ClickHouse alone', async () => {
    const scope = await runningJob();
    await ship(scope, 1, 120, true);
    await complete(scope);
    await env.runtime.nats.jsm.streams.purge(streamNames.logs, {
      filter: logSubject(scope.userId, scope.jobId),
    });
    const t = tail(scope);
    await t.done;
    expect(t.lines.map((l) => l.sequence_num)).toEqual(range(1, 120));
    expect(t.end()).toBe('COMPLETED');
    // A final job without any line ends at once.
    const empty = await runningJob();
    await complete(empty);
    const e = tail(empty);
    await e.done;
    expect([e.lines, e.end()]).toEqual([[], 'COMPLETED']);
  });

  it('releases its consumer and subscription when the client goes away', async () => {
    const scope = await runningJob();
    await ship(scope, 1, 50, false);
    const consumersBefore = (await env.runtime.nats.jsm.streams.info(streamNames.logs)).state.consumer_count;
    const abort = new AbortController();
    const t = tail(scope, ZERO_KEY, abort.signal);
    await waitUntil('lines sent', async () => t.lines.length === 50, 10_000);
    expect((await env.runtime.nats.jsm.streams.info(streamNames.logs)).state.consumer_count).toBe(
      consumersBefore + 1,
    );
    abort.abort();
    await t.done;
    expect(t.end()).toBeUndefined();
    expect((await env.runtime.nats.jsm.streams.info(streamNames.logs)).state.consumer_count).toBe(
      consumersBefore,
    );
  });
});
