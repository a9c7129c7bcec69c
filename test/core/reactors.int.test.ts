// The job-lifecycle reactor with real NATS and PostgreSQL: run-now becomes a queued job; job ends
// count toward the workflow's consecutive-failure limit, which terminates it and alerts the user;
// a success resets the count. The workflow's history shows all of it, in order.
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { jobDecider } from '../../src/actors/job-decider.ts';
import { userDecider } from '../../src/actors/user-decider.ts';
import { workflowDecider } from '../../src/actors/workflow-decider.ts';
import { aggregateHistory } from '../../src/events/history.ts';
import { postgresReadModels } from '../../src/projections/postgres-read-models.ts';
import { ProjectionRunner } from '../../src/projections/projection-runner.ts';
import { jobLifecycleReactor } from '../../src/reactors/job-lifecycle-reactor.ts';
import { ReactorRunner } from '../../src/reactors/reactor.ts';
import { waitUntil } from '../../src/stack/process-control.ts';
import { createLogger } from '../../src/telemetry/logger.ts';
import { createHeartbeat, createHeartbeatWorkflow, newId } from '../support/fixtures.ts';
import { useTestEnvironment } from '../support/test-environment.ts';

const env = useTestEnvironment();
let reactor: ReactorRunner;
let projection: ProjectionRunner;

beforeAll(async () => {
  const log = createLogger('test', 'error');
  reactor = new ReactorRunner(env.runtime.nats, jobLifecycleReactor(env.runtime.commands), log);
  projection = new ProjectionRunner({ nats: env.runtime.nats, db: env.runtime.db, log }, postgresReadModels);
  await reactor.start();
  await projection.start();
});

afterAll(async () => {
  await reactor?.stop();
  await projection?.stop();
});

async function jobStatus(jobId: string): Promise<string | undefined> {
  const row = await env.runtime.db
    .selectFrom('jobs')
    .select('status')
    .where('id', '=', jobId)
    .executeTakeFirst();
  return row?.status;
}

const workflowCommand = (
  userId: string,
  workflowId: string,
  command: Parameters<typeof workflowDecider.decide>[0],
) =>
  env.runtime.commands.handle(workflowDecider, {
    commandId: newId(),
    userId,
    aggregateId: workflowId,
    command,
  });
const jobCommand = (userId: string, jobId: string, command: Parameters<typeof jobDecider.decide>[0]) =>
  env.runtime.commands.handle(jobDecider, { commandId: newId(), userId, aggregateId: jobId, command });
const START = { type: 'StartJob', data: { attempt: 1, executor_id: 'exec-test' } } as const;
const COMPLETE = { type: 'CompleteJob', data: { attempt: 1, exit_code: 0 } } as const;

/** A run-now's job id (the reactor then creates and queues the job). */
async function runNow(userId: string, workflowId: string): Promise<string> {
  const jobId = newId();
  await workflowCommand(userId, workflowId, { type: 'RunNow', data: { job_id: jobId } });
  return jobId;
}

/** Run now, wait for the reactor to queue the job, run it to the given end. */
async function runJob(userId: string, workflowId: string, end: 'complete' | 'fail'): Promise<string> {
  const jobId = await runNow(userId, workflowId);
  await waitUntil('job queued by the reactor', async () => (await jobStatus(jobId)) === 'QUEUED', 20_000);
  await jobCommand(userId, jobId, START);
  await jobCommand(
    userId,
    jobId,
    end === 'complete'
      ? COMPLETE
      : {
          type: 'FailJob',
          data: {
            attempt: 1,
            failure_kind: 'USER',
            reason: 'exit_code',
            exit_code: 2,
            error_message: 'exit 2',
            retryable: false,
          },
        },
  );
  return jobId;
}

function createWorkflow(userId: string, workflowId: string) {
  return createHeartbeatWorkflow(env.runtime.commands, userId, workflowId);
}

async function workflowRow(workflowId: string) {
  return env.runtime.db
    .selectFrom('workflows')
    .selectAll()
    .where('id', '=', workflowId)
    .executeTakeFirstOrThrow();
}

describe('job lifecycle reactor', () => {
  it('counts consecutive failures, resets on success, terminates at the limit and alerts', async () => {
    const [userId, workflowId] = [newId(), newId()];
    await env.runtime.commands.handle(userDecider, {
      commandId: newId(),
      userId,
      aggregateId: userId,
      command: { type: 'RegisterUser', data: { user_id: userId, email: 'a@example.com' } },
    });
    await createWorkflow(userId, workflowId);

    await runJob(userId, workflowId, 'fail');
    await runJob(userId, workflowId, 'fail');
    await waitUntil(
      'two failures counted',
      async () => (await workflowRow(workflowId)).consecutive_job_failures === 2,
      20_000,
    );
    await runJob(userId, workflowId, 'complete');
    await waitUntil(
      'success resets the count',
      async () => (await workflowRow(workflowId)).consecutive_job_failures === 0,
      20_000,
    );
    expect((await workflowRow(workflowId)).status).toBe('ACTIVE');

    for (let i = 0; i < 3; i++) await runJob(userId, workflowId, 'fail');
    await waitUntil(
      'terminated at the limit',
      async () => (await workflowRow(workflowId)).status === 'TERMINATED',
      20_000,
    );
    expect((await workflowRow(workflowId)).terminated_reason).toBe('consecutive_failures');

    // Preference ALERTS (the default): the alert and the job errors, no successes.
    const kinds = await sql<{ kind: string; n: number }>`
      select kind, count(*)::int as n from notifications where user_id = ${userId} group by kind order by kind`.execute(
      env.runtime.db,
    );
    expect(kinds.rows).toEqual([
      { kind: 'WEB_ALERT', n: 1 },
      { kind: 'WEB_ERROR', n: 5 },
    ]);

    // A terminated workflow refuses to run.
    await expect(
      workflowCommand(userId, workflowId, { type: 'RunNow', data: { job_id: newId() } }),
    ).rejects.toMatchObject({ status: 409, code: 'workflow_terminated' });

    const history = await aggregateHistory(env.runtime.events, userId, 'workflow', workflowId, {
      limit: 1000,
    });
    const types = history.entries.map((e) => e.event.type);
    expect(types.slice(0, 2)).toEqual(['WorkflowCreated', 'WorkflowBuildCompleted']);
    expect(types.filter((t) => t === 'JobScheduled')).toHaveLength(6);
    expect(types.filter((t) => t === 'JobOutcomeRecorded')).toHaveLength(6);
    expect(types.at(-1)).toBe('WorkflowTerminated');
    expect(history.next).toBeNull();
    const sequences = history.entries.map((e) => e.sequence);
    expect([...sequences].sort((a, b) => a - b)).toEqual(sequences);
  });

  it('records a burst of job ends on one workflow in a few commits, each end exactly once', async () => {
    const [userId, workflowId] = [newId(), newId()];
    await createWorkflow(userId, workflowId);
    const jobIds: string[] = [];
    for (let i = 0; i < 40; i++) jobIds.push(await runNow(userId, workflowId));
    await waitUntil(
      'all queued',
      async () => (await Promise.all(jobIds.map(jobStatus))).every((s) => s === 'QUEUED'),
      20_000,
    );
    await Promise.all(jobIds.map((id) => jobCommand(userId, id, START)));
    // All end at once, as a busy workflow's jobs do.
    await Promise.all(jobIds.map((id) => jobCommand(userId, id, COMPLETE)));
    await waitUntil(
      'every end recorded on the workflow',
      async () =>
        (await env.runtime.commands.load(workflowDecider, userId, workflowId)).state.context.active_job_ids
          .length === 0,
      20_000,
    );
    const history = await aggregateHistory(env.runtime.events, userId, 'workflow', workflowId, {
      limit: 1000,
    });
    const recorded = history.entries.filter((e) => e.event.type === 'JobOutcomeRecorded');
    expect(recorded.map((e) => (e.event.data as { job_id: string }).job_id).sort()).toEqual(
      [...jobIds].sort(),
    );
    const commits = new Set(recorded.map((e) => e.sequence));
    expect(commits.size).toBeLessThan(jobIds.length);
  });

  it("gathers a plain workflow's completed ends into one record; records at once where overlap reads them", async () => {
    const userId = newId();
    const [plain, skipping] = [newId(), newId()];
    await createWorkflow(userId, plain);
    await workflowCommand(
      userId,
      skipping,
      createHeartbeat(userId, skipping, { schedule: { type: 'interval', minutes: 1, overlap: 'skip' } }),
    );
    const plainJobs: string[] = [];
    const skippingJobs: string[] = [];
    for (let i = 0; i < 3; i++) {
      plainJobs.push(await runNow(userId, plain));
      skippingJobs.push(await runNow(userId, skipping));
    }
    const all = [...plainJobs, ...skippingJobs];
    await waitUntil(
      'all queued',
      async () => (await Promise.all(all.map(jobStatus))).every((s) => s === 'QUEUED'),
      20_000,
    );
    for (const id of all) await jobCommand(userId, id, START);
    // Ends 200 ms apart on the plain workflow (within one gathering), 600 ms apart under skip (well
    // past the least gap between two records).
    const complete = (id: string) => jobCommand(userId, id, COMPLETE);
    const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));
    await Promise.all([
      (async () => {
        for (const id of plainJobs) await complete(id).then(() => pause(200));
      })(),
      (async () => {
        for (const id of skippingJobs) await complete(id).then(() => pause(600));
      })(),
    ]);
    const recordCommits = async (workflowId: string) => {
      const history = await aggregateHistory(env.runtime.events, userId, 'workflow', workflowId, {
        limit: 100,
      });
      const recorded = history.entries.filter((e) => e.event.type === 'JobOutcomeRecorded');
      return { ends: recorded.length, commits: new Set(recorded.map((e) => e.sequence)).size };
    };
    await waitUntil(
      'every end recorded',
      async () => {
        const [a, b] = [await recordCommits(plain), await recordCommits(skipping)];
        return a.ends === 3 && b.ends === 3;
      },
      20_000,
    );
    expect((await recordCommits(plain)).commits).toBe(1);
    expect((await recordCommits(skipping)).commits).toBe(3);
  });

  it('records a waiting end at once when the workflow is terminated: its deletion waits for it', async () => {
    const [userId, workflowId] = [newId(), newId()];
    await createWorkflow(userId, workflowId);
    const jobId = await runNow(userId, workflowId);
    await waitUntil('queued', async () => (await jobStatus(jobId)) === 'QUEUED', 20_000);
    await jobCommand(userId, jobId, START);
    await jobCommand(userId, jobId, COMPLETE);
    await workflowCommand(userId, workflowId, { type: 'TerminateWorkflow', data: {} });
    const recorded = async () =>
      (
        await aggregateHistory(env.runtime.events, userId, 'workflow', workflowId, { limit: 100 })
      ).entries.find((e) => e.event.type === 'JobOutcomeRecorded');
    await waitUntil('the end recorded', async () => (await recorded()) !== undefined, 20_000);
    const jobHistory = await aggregateHistory(env.runtime.events, userId, 'job', jobId, { limit: 100 });
    const completedAt = jobHistory.entries.find((e) => e.event.type === 'JobCompleted')!.event.occurredAt;
    // Well inside the second a completed end of a plain workflow may otherwise wait.
    const lag = Date.parse((await recorded())!.event.occurredAt) - Date.parse(completedAt);
    expect(lag).toBeLessThan(700);
  });

  it('pages the history by sequence', async () => {
    const [userId, workflowId] = [newId(), newId()];
    await createWorkflow(userId, workflowId);
    for (let i = 0; i < 4; i++) {
      await workflowCommand(userId, workflowId, {
        type: i % 2 ? 'ResumeWorkflow' : 'PauseWorkflow',
        data: {},
      });
    }
    const first = await aggregateHistory(env.runtime.events, userId, 'workflow', workflowId, { limit: 2 });
    expect(first.entries.map((e) => e.event.type)).toEqual([
      'WorkflowCreated',
      'WorkflowBuildCompleted',
      'WorkflowPaused',
    ]);
    const second = await aggregateHistory(env.runtime.events, userId, 'workflow', workflowId, {
      after: first.next!,
      limit: 10,
    });
    expect(second.entries.map((e) => e.event.type)).toEqual([
      'WorkflowResumed',
      'WorkflowPaused',
      'WorkflowResumed',
    ]);
    expect(second.next).toBeNull();
  });
});
