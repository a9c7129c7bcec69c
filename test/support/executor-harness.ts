// In-process executor setup for integration tests: the reactors that create, queue and dispatch jobs
// and record their outcomes, the build reactor, and one or more executors, all on a test environment
// (private NATS, fresh databases) and the local stack's real Docker engine.
import { DeliverPolicy } from '@nats-io/jetstream';
import { afterAll, beforeAll } from 'vitest';
import { jobDecider } from '../../src/actors/job-decider.ts';
import { workflowDecider } from '../../src/actors/workflow-decider.ts';
import { workflowStatus } from '../../src/actors/workflow-machine.ts';
import { streamNames } from '../../src/events/stream-definitions.ts';
import { logSubject } from '../../src/events/subjects.ts';
import { Executor, type ExecutorOptions } from '../../src/executor/executor.ts';
import type { LogBatch, LogLine } from '../../src/logs/log-batch.ts';
import { buildReactor } from '../../src/reactors/build-reactor.ts';
import { ReactorRunner } from '../../src/reactors/reactor.ts';
import { schedulerReactors } from '../../src/reactors/scheduler-reactors.ts';
import { waitUntil } from '../../src/stack/process-control.ts';
import { createLogger } from '../../src/telemetry/logger.ts';
import { newId } from './fixtures.ts';
import { type TestEnvironment, useTestEnvironment } from './test-environment.ts';

export const TEST_IMAGE = 'chronoverse/busybox:local';

export function executorOptions(overrides: Partial<ExecutorOptions> = {}): ExecutorOptions {
  return {
    executorId: `test-${newId().slice(0, 8)}`,
    pool: 'default',
    concurrency: 4,
    ackWaitMs: 5000,
    maxDeliver: 5,
    limits: { defaults: { cpus: 1, memoryMb: 64, pids: 64 }, caps: { cpus: 2, memoryMb: 512, pids: 256 } },
    // The tests' endpoints are servers on this machine.
    heartbeatAllowedNetworks: ['127.0.0.0/8'],
    ...overrides,
  };
}

export interface ExecutorHarness {
  readonly env: TestEnvironment;
  readonly userId: string;
  startExecutor(overrides?: Partial<ExecutorOptions>): Promise<Executor>;
  createWorkflow(kind: 'HEARTBEAT' | 'CONTAINER', payload: Record<string, unknown>): Promise<string>;
  runNow(workflowId: string): Promise<string>;
  waitForFinal(jobId: string, timeoutMs?: number): Promise<ReturnType<typeof jobContext>>;
  logs(jobId: string): Promise<LogLine[]>;
}

function jobContext(state: Awaited<ReturnType<TestEnvironment['runtime']['commands']['load']>>['state']) {
  return state.context as {
    attempt: number;
    exit_code: number | null;
    failure_kind: string | null;
    failure_reason: string | null;
    error_message: string | null;
    image_digest: string | null;
    executor_id: string | null;
  } & { status: string };
}

export function useExecutorHarness(options: { withExecutor?: boolean } = {}): ExecutorHarness {
  const env = useTestEnvironment();
  const userId = newId();
  const runners: ReactorRunner[] = [];
  const executors: Executor[] = [];
  const log = createLogger('test', 'error');

  beforeAll(async () => {
    const { nats, commands, docker } = env.runtime;
    runners.push(
      // As the scheduler role runs them, and the executors' builder.
      schedulerReactors({ nats, commands, pool: 'default', log }),
      new ReactorRunner(nats, buildReactor({ docker, commands, pool: 'default' }), log),
    );
    for (const r of runners) await r.start();
    if (options.withExecutor !== false) await harness.startExecutor();
  });

  afterAll(async () => {
    await Promise.all(executors.map((e) => e.stop()));
    await Promise.all(runners.map((r) => r.stop()));
  });

  const harness: ExecutorHarness = {
    env,
    userId,
    async startExecutor(overrides) {
      const { nats, commands, docker } = env.runtime;
      const executor = new Executor({ nats, commands, docker, log }, executorOptions(overrides));
      await executor.start();
      executors.push(executor);
      return executor;
    },
    async createWorkflow(kind, payload) {
      const id = newId();
      const commands = env.runtime.commands;
      await commands.handle(workflowDecider, {
        commandId: newId(),
        userId,
        aggregateId: id,
        command: {
          type: 'CreateWorkflow',
          data: {
            workflow_id: id,
            user_id: userId,
            name: `${kind} test`,
            kind,
            payload,
            schedule: { type: 'interval', minutes: 60 },
            max_consecutive_job_failures_allowed: 100,
          },
        },
      });
      await waitUntil(
        'workflow built',
        async () =>
          workflowStatus((await commands.load(workflowDecider, userId, id)).state).build === 'COMPLETED',
        20_000,
      );
      return id;
    },
    async runNow(workflowId) {
      const jobId = newId();
      await env.runtime.commands.handle(workflowDecider, {
        commandId: newId(),
        userId,
        aggregateId: workflowId,
        command: { type: 'RunNow', data: { job_id: jobId } },
      });
      return jobId;
    },
    async waitForFinal(jobId, timeoutMs = 30_000) {
      let state: Awaited<ReturnType<TestEnvironment['runtime']['commands']['load']>>['state'] | undefined;
      await waitUntil(
        `job ${jobId} final`,
        async () => {
          const loaded = await env.runtime.commands.load(jobDecider, userId, jobId);
          state = loaded.state;
          return ['COMPLETED', 'FAILED', 'CANCELED'].includes(String(loaded.state.value));
        },
        timeoutMs,
      );
      return { ...jobContext(state!), status: String(state!.value) };
    },
    async logs(jobId) {
      const { js } = env.runtime.nats;
      const consumer = await js.consumers.get(streamNames.logs, {
        filter_subjects: logSubject(userId, jobId),
        deliver_policy: DeliverPolicy.All,
      });
      const info = await consumer.info();
      const lines: LogLine[] = [];
      if (info.num_pending === 0) return lines;
      const messages = await consumer.consume();
      for await (const m of messages) {
        lines.push(...(JSON.parse(new TextDecoder().decode(m.data)) as LogBatch).lines);
        if (m.info.pending === 0) break;
      }
      messages.stop();
      return lines;
    },
  };
  return harness;
}
