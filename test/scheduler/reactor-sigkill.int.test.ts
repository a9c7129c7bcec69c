// The scheduler process SIGKILLed in the middle of a many-event reaction, on the real NATS. Both a
// backfill (one commit of 500 JobScheduled) and a burst of chained runs (each parent's end a
// JobOutcomeRecorded, the chain reactor turning each into a ChainRun per target) are turned into jobs
// by the reactors of the scheduler role, on its durable consumer `reactor_job_lifecycle`; a commit is
// acked only once every event of it has been reacted to. The process is killed when some but not all
// of the jobs exist, a new one is started (it gets the unacked commits again once their ack wait has
// run out), and every tick / every parent end must then have exactly one job (or recorded skip).
// Job ends gathering for a shared record when the process dies are each recorded once after it.
import { setPriority } from 'node:os';
import type { Msg, Subscription } from '@nats-io/transport-node';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { jobDecider } from '../../src/actors/job-decider.ts';
import { workflowDecider } from '../../src/actors/workflow-decider.ts';
import { EVENT_TYPES_HEADER } from '../../src/events/event-store.ts';
import { aggregateHistory } from '../../src/events/history.ts';
import { streamNames } from '../../src/events/stream-definitions.ts';
import type { WorkflowChain } from '../../src/events/workflow-events.ts';
import { postgresReadModels } from '../../src/projections/postgres-read-models.ts';
import { ProjectionRunner } from '../../src/projections/projection-runner.ts';
import { waitUntil } from '../../src/stack/process-control.ts';
import { createLogger } from '../../src/telemetry/logger.ts';
import { createHeartbeat, newId } from '../support/fixtures.ts';
import { type RoleProcess, startRole } from '../support/role-process.ts';
import { useTestEnvironment } from '../support/test-environment.ts';

const env = useTestEnvironment();
const userId = newId();
let projection: ProjectionRunner;
let scheduler: RoleProcess | undefined;
let subscription: Subscription | undefined;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

beforeAll(async () => {
  projection = new ProjectionRunner(
    { nats: env.runtime.nats, db: env.runtime.db, log: createLogger('test', 'error') },
    postgresReadModels,
  );
  await projection.start();
});
afterAll(async () => {
  await projection?.stop();
});

afterEach(async () => {
  subscription?.unsubscribe();
  await scheduler?.kill('SIGTERM');
});

const command = <C extends { type: string }>(aggregateId: string, cmd: C) => ({
  commandId: newId(),
  userId,
  aggregateId,
  command: cmd,
});

async function createWorkflow(
  schedule: { cron: string },
  options: { paused?: boolean; chain?: WorkflowChain } = {},
): Promise<string> {
  const id = newId();
  const { commands } = env.runtime;
  await commands.handle(
    workflowDecider,
    command(
      id,
      createHeartbeat(userId, id, {
        schedule: { type: 'cron', cron: schedule.cron, timezone: 'UTC' },
        max_consecutive_job_failures_allowed: 100,
        ...(options.chain ? { chain: options.chain } : {}),
      }),
    ),
  );
  if (options.paused)
    await commands.handle(workflowDecider, command(id, { type: 'PauseWorkflow', data: {} }));
  return id;
}

/** `n` whole seconds in the past: the ticks of a per-second cron that a backfill of them fires. */
function pastSeconds(n: number): { from: string; to: string; ticks: string[] } {
  const from = Math.floor(Date.now() / 1000) * 1000 - (n + 60) * 1000;
  const ticks = Array.from({ length: n }, (_, i) => new Date(from + i * 1000).toISOString());
  return { from: ticks[0]!, to: new Date(from + n * 1000).toISOString(), ticks };
}

async function backfill(workflowId: string, n: number): Promise<string[]> {
  const { from, to, ticks } = pastSeconds(n);
  await env.runtime.commands.handle(
    workflowDecider,
    command(workflowId, {
      type: 'Backfill',
      data: { backfill_id: newId(), from, to, overlap: 'allow', nominal_ats: ticks },
    }),
  );
  return ticks;
}

/**
 * Counts commits published on `subject` holding an event of `type`, and calls `onCount` with each new
 * count (a core subscription: it sees every publish, so counts only say how far the process got).
 */
function watch(subject: string, type: string, onCount: (n: number, m: Msg) => void): () => number {
  let n = 0;
  subscription = env.runtime.nats.nc.subscribe(subject, {
    callback: (_err, m) => {
      if (!(m.headers?.get(EVENT_TYPES_HEADER) ?? '').split(',').includes(type)) return;
      onCount(++n, m);
    },
  });
  return () => n;
}

/**
 * A scheduler process, at the lowest CPU priority: it makes the 500 jobs in about 0.6 s on an idle
 * machine, and on a busy one this process must still see the count and kill it before it is done.
 */
async function startScheduler(): Promise<RoleProcess> {
  const s = startRole('scheduler', env.config);
  if (s.child.pid !== undefined) setPriority(s.child.pid, 19);
  await s.waitFor('scheduler started');
  return s;
}

const historyOf = async (aggregate: 'job' | 'workflow', id: string) =>
  (await aggregateHistory(env.runtime.events, userId, aggregate, id, { limit: 10_000 })).entries.map(
    (e) => e.event,
  );

const countBy = (keys: readonly string[]) => {
  const counts = new Map<string, number>();
  for (const k of keys) counts.set(k, (counts.get(k) ?? 0) + 1);
  return counts;
};

describe('the scheduler SIGKILLed mid-reaction', () => {
  it('a backfill of 500 ticks with the scheduler SIGKILLed midway fires each tick exactly once', {
    timeout: 180_000,
  }, async () => {
    const { db, nats } = env.runtime;
    // Paused: the schedule's own ticks (after its creation) are recorded paused and fire nothing; the
    // backfill's ticks lie before its creation, where they are the only fires.
    const wf = await createWorkflow({ cron: '* * * * * *' }, { paused: true });
    scheduler = await startScheduler();
    const dispatchedBefore = (await nats.jsm.streams.info(streamNames.dispatch)).state.messages;

    // Killed at the 100th job created of the 500: the commit of the backfill is not acked yet.
    let killedAt = 0;
    const created = watch(`cv.evt.${userId}.job.>`, 'JobCreated', (n) => {
      if (n === 100) {
        scheduler!.child.kill('SIGKILL');
        killedAt = Date.now();
      }
    });
    const ticks = await backfill(wf, 500);
    await waitUntil('killed', async () => killedAt > 0, 60_000);
    await scheduler.exited;
    await sleep(500);
    const createdAtKill = created();
    // Midway: some but not all of the 500 were turned into jobs when the process died.
    expect(createdAtKill).toBeGreaterThanOrEqual(100);
    expect(createdAtKill).toBeLessThan(500);

    scheduler = await startScheduler();
    const backfillJobs = () =>
      db
        .selectFrom('jobs')
        .select(['id', 'scheduled_at', 'trigger', 'status'])
        .where('workflow_id', '=', wf)
        .where('trigger', '=', 'BACKFILL')
        .execute();
    // The new process gets the commit again once its ack wait (30 s) has run out.
    await waitUntil(
      'every backfilled tick a queued job',
      async () => (await backfillJobs()).filter((j) => j.status === 'QUEUED').length === 500,
      120_000,
    );
    await sleep(2000);

    // One job per nominal tick, none twice, none missing.
    const jobs = await backfillJobs();
    expect(jobs.map((j) => j.scheduled_at.toISOString()).sort()).toEqual(ticks);
    // Each job created and queued once in its own history (a redelivered create is a no-op).
    for (const j of jobs) {
      const types = (await historyOf('job', j.id)).map((e) => e.type);
      expect(types, j.id).toEqual(['JobCreated', 'JobQueued']);
    }
    // Each dispatched to the executors once.
    const dispatched = (await nats.jsm.streams.info(streamNames.dispatch)).state.messages - dispatchedBefore;
    expect(dispatched).toBe(500);
    // One ledger entry per tick.
    const ledger = await db
      .selectFrom('workflow_ticks')
      .select(['nominal_at', 'reason', 'job_id'])
      .where('workflow_id', '=', wf)
      .where('reason', '=', 'backfill')
      .execute();
    expect(ledger.map((t) => t.nominal_at.toISOString()).sort()).toEqual(ticks);
    console.info(
      `backfill: ${createdAtKill} of 500 jobs created at the SIGKILL; all 500 once each ${Math.round((Date.now() - killedAt) / 1000)} s after it`,
    );
  });

  it('a chain fires exactly once with its reactor SIGKILLed mid-batch', { timeout: 180_000 }, async () => {
    const { commands, db } = env.runtime;
    const PARENT_JOBS = 200;
    // C runs on every end of a job of P; D is paused, so each end is a recorded skip on D. Neither
    // fires on its own schedule during the test (a yearly cron).
    const c = await createWorkflow({ cron: '0 0 1 1 *' });
    const d = await createWorkflow({ cron: '0 0 1 1 *' }, { paused: true });
    const p = await createWorkflow({ cron: '* * * * * *' }, { paused: true, chain: { on_end: [c, d] } });
    scheduler = await startScheduler();
    await backfill(p, PARENT_JOBS);
    const parentJobs = async () =>
      (await db.selectFrom('jobs').select(['id', 'status']).where('workflow_id', '=', p).execute()).filter(
        (j) => j.status === 'QUEUED',
      );
    await waitUntil('the parents queued', async () => (await parentJobs()).length === PARENT_JOBS, 60_000);
    const parents = (await parentJobs()).map((j) => j.id).sort();

    // Killed when 40 of the 200 chained runs of C are in the log.
    let killedAt = 0;
    const chained = watch(`cv.evt.${userId}.workflow.${c}`, 'JobScheduled', (n) => {
      if (n === 40) {
        scheduler!.child.kill('SIGKILL');
        killedAt = Date.now();
      }
    });
    // Every parent ends at once (canceled: an end like any other for on_end).
    await Promise.all(
      parents.map((id) =>
        commands.handle(jobDecider, command(id, { type: 'CancelJob', data: { reason: 'test' } })),
      ),
    );
    await waitUntil('killed', async () => killedAt > 0, 60_000);
    await scheduler.exited;
    await sleep(500);
    const chainedAtKill = chained();
    expect(chainedAtKill).toBeGreaterThanOrEqual(40);
    expect(chainedAtKill).toBeLessThan(PARENT_JOBS);

    scheduler = await startScheduler();
    const causes = async (id: string, type: string) =>
      (await historyOf('workflow', id))
        .filter((e) => e.type === type)
        .map((e) => (e.data as { caused_by: { job_id: string } }).caused_by.job_id);
    await waitUntil(
      'every end chained',
      async () =>
        (await causes(c, 'JobScheduled')).length >= PARENT_JOBS &&
        (await causes(d, 'ChainSkipped')).length >= PARENT_JOBS,
      120_000,
    );
    await sleep(3000);

    // Each parent's end: exactly one run of C and one recorded skip of D, none twice.
    const runs = await causes(c, 'JobScheduled');
    expect(runs.sort()).toEqual(parents);
    const skips = await causes(d, 'ChainSkipped');
    expect(skips.sort()).toEqual(parents);
    // Each recorded once on the parent.
    const ends = (await historyOf('workflow', p))
      .filter((e) => e.type === 'JobOutcomeRecorded')
      .map((e) => (e.data as { job_id: string }).job_id);
    expect([...countBy(ends).values()].every((n) => n === 1)).toBe(true);
    expect(ends.sort()).toEqual(parents);
    // And C's jobs, one per parent, name their cause.
    await waitUntil(
      'the read model has C’s jobs',
      async () =>
        (await db.selectFrom('jobs').select('id').where('workflow_id', '=', c).execute()).length ===
        PARENT_JOBS,
      30_000,
    );
    const childJobs = await db
      .selectFrom('jobs')
      .select(['trigger', 'caused_by_job_id'])
      .where('workflow_id', '=', c)
      .execute();
    expect(childJobs.every((j) => j.trigger === 'CHAIN')).toBe(true);
    expect(childJobs.map((j) => j.caused_by_job_id).sort()).toEqual(parents);
    console.info(
      `chain: ${chainedAtKill} of ${PARENT_JOBS} runs of C in the log at the SIGKILL; all once each ${Math.round((Date.now() - killedAt) / 1000)} s after it`,
    );
  });

  it('job ends gathering for a shared record when the scheduler is SIGKILLed are each recorded once', {
    timeout: 120_000,
  }, async () => {
    const { commands, db } = env.runtime;
    const JOBS = 50;
    // A plain workflow (overlap allow, no chain): its completed ends wait up to a second to share a
    // record. Its yearly cron fires nothing during the test.
    const w = await createWorkflow({ cron: '0 0 1 1 *' });
    scheduler = await startScheduler();
    const jobIds = Array.from({ length: JOBS }, () => newId());
    for (const jobId of jobIds) {
      await commands.handle(workflowDecider, command(w, { type: 'RunNow', data: { job_id: jobId } }));
    }
    const queued = async () =>
      (await db.selectFrom('jobs').select('status').where('workflow_id', '=', w).execute()).filter(
        (j) => j.status === 'QUEUED',
      ).length;
    await waitUntil('all queued', async () => (await queued()) === JOBS, 60_000);
    for (const jobId of jobIds) {
      await commands.handle(
        jobDecider,
        command(jobId, { type: 'StartJob', data: { attempt: 1, executor_id: 'exec-test' } }),
      );
    }
    const records = watch(`cv.evt.${userId}.workflow.${w}`, 'JobOutcomeRecorded', () => {});
    await Promise.all(
      jobIds.map((id) =>
        commands.handle(jobDecider, command(id, { type: 'CompleteJob', data: { attempt: 1, exit_code: 0 } })),
      ),
    );
    // Killed while the ends gather (a second from the first one's arrival).
    await sleep(300);
    scheduler.child.kill('SIGKILL');
    await scheduler.exited;
    const recordsAtKill = records();
    const ended = async () =>
      (await historyOf('workflow', w))
        .filter((e) => e.type === 'JobOutcomeRecorded')
        .map((e) => (e.data as { job_id: string }).job_id);
    expect((await ended()).length).toBeLessThan(JOBS);

    scheduler = await startScheduler();
    await waitUntil(
      'every end recorded on the workflow',
      async () => (await commands.load(workflowDecider, userId, w)).state.context.active_job_ids.length === 0,
      60_000,
    );
    await sleep(1500);
    const recorded = await ended();
    expect([...countBy(recorded).values()].every((n) => n === 1)).toBe(true);
    expect(recorded.sort()).toEqual([...jobIds].sort());
    console.info(
      `gathered ends: ${recordsAtKill} record commits at the SIGKILL; all ${JOBS} ends recorded once each after it`,
    );
  });
});
