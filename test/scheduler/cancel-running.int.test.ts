// Overlap policy cancel_running against real NATS and PostgreSQL. The tick's JobScheduled names the
// jobs it replaces, and the job-lifecycle reactor cancels them: so when the process that fired the
// tick dies before anything is canceled, the old job is still canceled once a reactor runs again, and
// reacting twice to the same event cancels nothing more (nor any job scheduled after it).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { jobDecider } from '../../src/actors/job-decider.ts';
import { jobStatus } from '../../src/actors/job-machine.ts';
import { workflowDecider } from '../../src/actors/workflow-decider.ts';
import { aggregateHistory } from '../../src/events/history.ts';
import { postgresReadModels } from '../../src/projections/postgres-read-models.ts';
import { ProjectionRunner } from '../../src/projections/projection-runner.ts';
import { jobLifecycleReactor } from '../../src/reactors/job-lifecycle-reactor.ts';
import { ReactorRunner } from '../../src/reactors/reactor.ts';
import { jobIdForTick } from '../../src/scheduler/tick-plan.ts';
import { TickScheduler } from '../../src/scheduler/tick-scheduler.ts';
import { waitUntil } from '../../src/stack/process-control.ts';
import { createLogger } from '../../src/telemetry/logger.ts';
import { createHeartbeat, newId } from '../support/fixtures.ts';
import { useTestEnvironment } from '../support/test-environment.ts';

const env = useTestEnvironment();
const log = createLogger('test', 'error');
const MINUTE = 60_000;
let projection: ProjectionRunner;

beforeAll(async () => {
  projection = new ProjectionRunner({ nats: env.runtime.nats, db: env.runtime.db, log }, postgresReadModels);
  await projection.start();
});
afterAll(async () => {
  await projection?.stop();
});

describe('overlap policy cancel_running', () => {
  it('cancels the job a new tick replaces, even when the reactor was down as it fired', {
    timeout: 60_000,
  }, async () => {
    const { commands, db } = env.runtime;
    const userId = newId();
    const wf = newId();
    await commands.handle(workflowDecider, {
      commandId: newId(),
      userId,
      aggregateId: wf,
      command: createHeartbeat(userId, wf, {
        schedule: { type: 'cron', cron: '* * * * *', timezone: 'UTC', overlap: 'cancel_running' },
      }),
    });
    await waitUntil(
      'read model',
      async () => (await db.selectFrom('workflows').select('id').where('id', '=', wf).execute()).length === 1,
      20_000,
    );
    const created = (
      await db.selectFrom('workflows').select('created_at').where('id', '=', wf).executeTakeFirstOrThrow()
    ).created_at.getTime();
    const m = Math.floor(created / MINUTE) * MINUTE + MINUTE;
    const jobOf = (minute: number) => jobIdForTick(wf, new Date(m + minute * MINUTE).toISOString());
    let clock = created;
    const scheduler = new TickScheduler(
      { db, commands, log },
      { memberId: 'only', members: () => ['only'], now: () => new Date(clock), lookaheadMs: 20_000 },
    );
    const runUntil = async (t: number) => {
      while (clock < t) {
        clock = Math.min(t, clock + 10_000);
        await scheduler.refresh();
        await scheduler.runPass();
      }
    };
    const job = async (id: string) => {
      const { state, exists } = await commands.load(jobDecider, userId, id);
      return exists ? { status: jobStatus(state), state } : { status: 'none' as const, state };
    };
    const waitForStatus = (id: string, status: string) =>
      waitUntil(`job ${id} ${status}`, async () => (await job(id)).status === status, 20_000);

    // The first tick's job is created, queued and started (by hand: no executor here).
    let reactor = new ReactorRunner(env.runtime.nats, jobLifecycleReactor(commands), log);
    await reactor.start();
    await runUntil(m);
    await waitForStatus(jobOf(0), 'QUEUED');
    await commands.handle(jobDecider, {
      commandId: newId(),
      userId,
      aggregateId: jobOf(0),
      command: { type: 'StartJob', data: { attempt: 1, executor_id: 'exec-test' } },
    });

    // No reactor while the next tick fires: the scheduler's part is done with the append alone.
    await reactor.stop();
    await runUntil(m + MINUTE);
    const history = await aggregateHistory(env.runtime.events, userId, 'workflow', wf, { limit: 1000 });
    const second = history.entries.find(
      (e) => e.event.type === 'JobScheduled' && (e.event.data as { job_id: string }).job_id === jobOf(1),
    )!;
    expect(second.event.data).toMatchObject({ replaces: [jobOf(0)] });
    expect((await job(jobOf(0))).status).toBe('RUNNING');

    // A reactor again (a restarted process): the event is delivered, the old job canceled.
    reactor = new ReactorRunner(env.runtime.nats, jobLifecycleReactor(commands), log);
    await reactor.start();
    await waitForStatus(jobOf(0), 'CANCELED');
    await waitForStatus(jobOf(1), 'QUEUED');
    await waitUntil(
      'the workflow recorded the cancel',
      async () => {
        const { state } = await commands.load(workflowDecider, userId, wf);
        return state.context.active_job_ids.join() === jobOf(1);
      },
      20_000,
    );

    // The third tick replaces the second job, and only it.
    await runUntil(m + 2 * MINUTE);
    await waitForStatus(jobOf(1), 'CANCELED');
    await waitForStatus(jobOf(2), 'QUEUED');
    await reactor.stop();

    // Reacting to the second tick once more (a redelivery): nothing new, the third job untouched.
    const before = await aggregateHistory(env.runtime.events, userId, 'job', jobOf(0));
    await jobLifecycleReactor(commands).react(second.event, second.sequence);
    const after = await aggregateHistory(env.runtime.events, userId, 'job', jobOf(0));
    expect(after.entries.map((e) => e.event.type)).toEqual(before.entries.map((e) => e.event.type));
    expect(after.entries.filter((e) => e.event.type === 'JobCanceled')).toHaveLength(1);
    expect(after.entries.at(-1)!.event.data).toEqual({
      reason: `replaced by the tick of ${new Date(m + MINUTE).toISOString()} (overlap policy cancel_running)`,
    });
    expect((await job(jobOf(2))).status).toBe('QUEUED');
    await scheduler.stop();
  });
});
