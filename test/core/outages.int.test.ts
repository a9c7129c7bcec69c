// An outage is not a refusal. Every consumer that turns events into commands meets a store that fails
// once: the log does not answer in time (a read timeout), or a crowd on the actor uses up the command
// handler's tries (exhausted conflicts). Both are retryable, so the reaction is retried and lands
// exactly once; a consumer that took them for a refusal of the domain would ack them and lose it
// (a job never queued or started, an end never recorded on its workflow, a build left STARTED, an
// orphaned attempt never failed). Real NATS, PostgreSQL and Docker; the faults are armed on a real
// event store, per actor.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CommandHandler } from '../../src/actors/command-handler.ts';
import { jobDecider } from '../../src/actors/job-decider.ts';
import { workflowDecider } from '../../src/actors/workflow-decider.ts';
import { workflowStatus } from '../../src/actors/workflow-machine.ts';
import type { AggregateKind } from '../../src/events/envelope.ts';
import { streamNames } from '../../src/events/stream-definitions.ts';
import { dispatchSubject, eventSubject } from '../../src/events/subjects.ts';
import type { WorkflowCommand } from '../../src/events/workflow-events.ts';
import { LABELS } from '../../src/executor/container-runner.ts';
import { Executor } from '../../src/executor/executor.ts';
import { recoverOrphans } from '../../src/executor/recovery.ts';
import { buildReactor, buildRequestReactor } from '../../src/reactors/build-reactor.ts';
import { dispatchReactor } from '../../src/reactors/dispatch-reactor.ts';
import { jobLifecycleReactor } from '../../src/reactors/job-lifecycle-reactor.ts';
import { ReactorRunner } from '../../src/reactors/reactor.ts';
import { schedulerReactors } from '../../src/reactors/scheduler-reactors.ts';
import { waitUntil } from '../../src/stack/process-control.ts';
import { createLogger } from '../../src/telemetry/logger.ts';
import { executorOptions, TEST_IMAGE } from '../support/executor-harness.ts';
import { type Fault, FaultyEventStore } from '../support/faulty-event-store.ts';
import { createHeartbeat, createJob, newId } from '../support/fixtures.ts';
import { useTestEnvironment } from '../support/test-environment.ts';

const env = useTestEnvironment();
const log = createLogger('test', 'error');
const TRIES = 3;
const FAULTS: Fault[] = ['read_timeout', 'exhausted_conflicts'];
const userId = newId();

/** A command handler over a store with faults, as the consumer under test gets it. */
function faulty() {
  const store = new FaultyEventStore(env.runtime.nats);
  return { store, commands: new CommandHandler(store, { maxAttempts: TRIES }) };
}

/** How many events of each type an actor's log holds. */
async function counts(aggregate: AggregateKind, id: string): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  for (const c of await env.runtime.events.read(eventSubject(userId, aggregate, id)))
    for (const e of c.events) out[e.type] = (out[e.type] ?? 0) + 1;
  return out;
}

const send = (aggregateId: string, command: WorkflowCommand) =>
  env.runtime.commands.handle(workflowDecider, { commandId: newId(), userId, aggregateId, command });

async function heartbeat(endpoint = 'http://127.0.0.1:9/health'): Promise<string> {
  const id = newId();
  await send(
    id,
    createHeartbeat(userId, id, { payload: { endpoint }, max_consecutive_job_failures_allowed: 100 }),
  );
  return id;
}

async function jobStatus(jobId: string): Promise<string> {
  return String((await env.runtime.commands.load(jobDecider, userId, jobId)).state.value);
}

describe.each(FAULTS)('a store that fails once (%s)', (fault) => {
  it('the lifecycle reactor still creates and queues the job, and records its end, once', async () => {
    const { store, commands } = faulty();
    const runner = new ReactorRunner(
      env.runtime.nats,
      { ...jobLifecycleReactor(commands), name: `lifecycle_${fault}` },
      log,
    );
    await runner.start();
    try {
      const wf = await heartbeat();
      const jobId = newId();
      store.arm(fault, jobId, TRIES);
      await send(wf, { type: 'RunNow', data: { job_id: jobId } });
      await waitUntil('job queued', async () => (await jobStatus(jobId)) === 'QUEUED', 20_000);
      expect(store.met).toBeGreaterThan(0);
      expect(await counts('job', jobId)).toEqual({ JobCreated: 1, JobQueued: 1 });

      // The job's end, recorded on its workflow through the same kind of outage.
      const met = store.met;
      store.arm(fault, wf, TRIES);
      for (const [step, command] of [
        ['start', { type: 'StartJob', data: { attempt: 1, executor_id: 'test' } }],
        ['complete', { type: 'CompleteJob', data: { attempt: 1, exit_code: 0 } }],
      ] as const)
        await env.runtime.commands.handle(jobDecider, {
          commandId: `${jobId}:${step}`,
          userId,
          aggregateId: jobId,
          command,
        });
      await waitUntil(
        'end recorded on the workflow',
        async () =>
          !(
            await env.runtime.commands.load(workflowDecider, userId, wf)
          ).state.context.active_job_ids.includes(jobId),
        20_000,
      );
      expect(store.met).toBeGreaterThan(met);
      expect((await counts('workflow', wf)).JobOutcomeRecorded).toBe(1);
    } finally {
      await runner.stop();
    }
  });

  it('the build reactor still builds a CONTAINER workflow, once', async () => {
    const { store, commands } = faulty();
    const pool = `outage-build-${fault}`;
    const runners = [
      new ReactorRunner(
        env.runtime.nats,
        { ...buildRequestReactor({ nats: env.runtime.nats, pool }), name: `build_requests_${fault}` },
        log,
      ),
      new ReactorRunner(env.runtime.nats, buildReactor({ docker: env.runtime.docker, commands, pool }), log),
    ];
    for (const r of runners) await r.start();
    try {
      const wf = newId();
      store.arm(fault, wf, TRIES);
      await send(
        wf,
        createHeartbeat(userId, wf, { kind: 'CONTAINER', payload: { image: TEST_IMAGE, cmd: ['true'] } }),
      );
      await waitUntil(
        'built',
        async () =>
          workflowStatus((await env.runtime.commands.load(workflowDecider, userId, wf)).state).build ===
          'COMPLETED',
        30_000,
      );
      expect(store.met).toBeGreaterThan(0);
      const c = await counts('workflow', wf);
      expect([c.WorkflowBuildStarted, c.WorkflowBuildCompleted]).toEqual([1, 1]);
    } finally {
      for (const r of runners) await r.stop();
    }
  });

  it('recovery still fails the attempt of a container an executor left behind, once', async () => {
    const { store, commands } = faulty();
    const executorId = `outage-recovery-${fault}`;
    const wf = await heartbeat();
    const jobId = newId();
    await env.runtime.commands.handle(jobDecider, {
      commandId: newId(),
      userId,
      aggregateId: jobId,
      command: createJob(userId, wf, jobId, 'CONTAINER', { image: TEST_IMAGE, cmd: ['true'] }),
    });
    await env.runtime.commands.handle(jobDecider, {
      commandId: newId(),
      userId,
      aggregateId: jobId,
      command: { type: 'StartJob', data: { attempt: 1, executor_id: executorId } },
    });
    // What a killed executor leaves: its job's container, labeled as it labels them.
    await env.runtime.docker.createContainer({
      Image: TEST_IMAGE,
      Cmd: ['sleep', '60'],
      Labels: {
        [LABELS.managed]: 'true',
        [LABELS.executor]: executorId,
        [LABELS.job]: jobId,
        [LABELS.user]: userId,
        [LABELS.attempt]: '1',
      },
      HostConfig: { NetworkMode: 'none' },
    });
    store.arm(fault, jobId, TRIES);
    expect(await recoverOrphans({ docker: env.runtime.docker, commands, log }, executorId)).toBe(1);
    expect(store.met).toBeGreaterThan(0);
    const job = (await env.runtime.commands.load(jobDecider, userId, jobId)).state.context;
    expect(job.failure_reason).toBe('executor_lost');
    expect((await counts('job', jobId)).JobFailed).toBe(1);
  });
});

describe('a store that fails once (read_timeout), for the dispatcher', () => {
  it('the dispatch reactor still publishes the queued attempt, once', async () => {
    const { store, commands } = faulty();
    const pool = 'outage-dispatch';
    const runner = new ReactorRunner(
      env.runtime.nats,
      { ...dispatchReactor({ nats: env.runtime.nats, commands, pool }), name: 'dispatch_outage' },
      log,
    );
    await runner.start();
    try {
      const wf = await heartbeat();
      const jobId = newId();
      // The dispatcher only reads the log (it publishes to the dispatch stream), so only a read fails.
      store.arm('read_timeout', jobId, TRIES);
      await env.runtime.commands.handle(jobDecider, {
        commandId: newId(),
        userId,
        aggregateId: jobId,
        command: createJob(userId, wf, jobId, 'HEARTBEAT', { endpoint: 'http://127.0.0.1:9/health' }),
      });
      // The dispatch messages of this job in the pool (the reactor also dispatches earlier tests' jobs).
      const dispatched = async () => {
        const { jsm } = env.runtime.nats;
        const { first_seq, last_seq } = (await jsm.streams.info(streamNames.dispatch)).state;
        let n = 0;
        for (let seq = first_seq; seq <= last_seq; seq++) {
          const m = await jsm.streams.getMessage(streamNames.dispatch, { seq }).catch(() => null);
          if (m?.subject === dispatchSubject(pool) && (m.json() as { job_id: string }).job_id === jobId) n++;
        }
        return n;
      };
      await waitUntil('dispatched', async () => (await dispatched()) > 0, 20_000);
      expect(store.met).toBe(1);
      // Give a second publication time to show up; the message id would make it a duplicate anyway.
      await new Promise((r) => setTimeout(r, 500));
      expect(await dispatched()).toBe(1);
    } finally {
      await runner.stop();
    }
  });
});

describe('an executor whose store fails once', () => {
  let endpoint: Server;
  let url: string;
  const hits: string[] = [];
  let reactors: ReactorRunner;

  beforeAll(async () => {
    endpoint = createServer((req, res) => {
      hits.push(req.url ?? '');
      setTimeout(() => res.writeHead(200).end('ok'), 1500);
    });
    await new Promise<void>((r) => endpoint.listen(0, '127.0.0.1', r));
    url = `http://127.0.0.1:${(endpoint.address() as AddressInfo).port}`;
    reactors = schedulerReactors({
      nats: env.runtime.nats,
      commands: env.runtime.commands,
      pool: 'default',
      log,
    });
    await reactors.start();
  });
  afterAll(async () => {
    await reactors?.stop();
    endpoint?.close();
  });

  it.each(FAULTS)('still starts the job and reports its end, once (%s)', async (fault) => {
    const { store, commands } = faulty();
    const executor = new Executor(
      { nats: env.runtime.nats, commands, docker: env.runtime.docker, log },
      executorOptions({ pool: 'default' }),
    );
    await executor.start();
    try {
      const wf = await heartbeat(`${url}/${fault}`);
      const jobId = newId();
      // The start fails first: the dispatch message is put back and the start tried again.
      store.arm(fault, jobId, TRIES);
      await send(wf, { type: 'RunNow', data: { job_id: jobId } });
      await waitUntil('endpoint called', async () => hits.includes(`/${fault}`), 30_000);
      const met = store.met;
      expect(met).toBeGreaterThan(0);
      // Then the report of its end fails once while the check runs.
      store.arm(fault, jobId, TRIES);
      await waitUntil('completed', async () => (await jobStatus(jobId)) === 'COMPLETED', 30_000);
      expect(store.met).toBeGreaterThan(met);
      const c = await counts('job', jobId);
      expect([c.JobStarted, c.JobCompleted]).toEqual([1, 1]);
      expect(hits.filter((h) => h === `/${fault}`)).toHaveLength(1);
    } finally {
      await executor.stop();
    }
  });
});
