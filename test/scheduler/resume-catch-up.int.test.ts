// Pause and resume against real NATS and PostgreSQL, with the scheduler's clock injected so that
// eleven minutes of per-minute ticks pass in seconds: on resume each workflow's catch-up policy picks
// what fires (latest / all / none) among the ticks of the pause, the others are recorded as paused;
// a schedule past its end_at records end_reached once. Every nominal minute appears exactly once in
// the log and in the tick ledger the API serves.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CommandHandler } from '../../src/actors/command-handler.ts';
import { workflowDecider } from '../../src/actors/workflow-decider.ts';
import { aggregateHistory } from '../../src/events/history.ts';
import type { CatchUpPolicy, WorkflowCommand, WorkflowSchedule } from '../../src/events/workflow-events.ts';
import { postgresReadModels } from '../../src/projections/postgres-read-models.ts';
import { ProjectionRunner } from '../../src/projections/projection-runner.ts';
import { TickScheduler } from '../../src/scheduler/tick-scheduler.ts';
import { waitUntil } from '../../src/stack/process-control.ts';
import { createLogger } from '../../src/telemetry/logger.ts';
import { createHeartbeat, newId } from '../support/fixtures.ts';
import { useTestEnvironment } from '../support/test-environment.ts';

const env = useTestEnvironment();
const MINUTE = 60_000;
let projection: ProjectionRunner;

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

describe('catch-up on resume, and the end of a schedule', () => {
  it('fires what each policy says after a pause, and marks the end once', { timeout: 120_000 }, async () => {
    const { db } = env.runtime;
    // The workflows decide on the test's clock too: a pause withdraws what was decided ahead of it.
    let clock = Date.now();
    const commands = new CommandHandler(env.runtime.events, { now: () => new Date(clock) });
    const userId = newId();
    // The first whole minute after creation (give or take one, if creation straddles a minute).
    const firstMinute = Math.ceil((Date.now() + 1000) / MINUTE) * MINUTE;
    const endAt = firstMinute + 2 * MINUTE;
    const schedule = (extra: Partial<WorkflowSchedule>): WorkflowSchedule =>
      // overlap allow: nothing runs the jobs here, and each fired tick must stay a fired one.
      ({ type: 'cron', cron: '* * * * *', timezone: 'UTC', overlap: 'allow', ...extra }) as WorkflowSchedule;
    const policies: CatchUpPolicy[] = ['latest', 'all', 'none'];
    const paused = new Map(policies.map((p) => [p, newId()]));
    const ending = newId();
    const send = (id: string, command: WorkflowCommand) =>
      commands.handle(workflowDecider, { commandId: newId(), userId, aggregateId: id, command });
    for (const [catch_up, id] of paused)
      await send(id, createHeartbeat(userId, id, { schedule: schedule({ catch_up }) }));
    await send(ending, createHeartbeat(userId, ending, { schedule: schedule({ end_at: iso(endAt) }) }));
    const statuses = async () =>
      (await db.selectFrom('workflows').select('status').where('user_id', '=', userId).execute()).map(
        (r) => r.status,
      );
    await waitUntil('read model', async () => (await statuses()).length === 4, 20_000);

    // The clock starts now and moves only when the test says.
    const created = Math.max(
      ...(await db.selectFrom('workflows').select('created_at').where('user_id', '=', userId).execute()).map(
        (r) => r.created_at.getTime(),
      ),
    );
    // The first tick of the last workflow created (one created just before a minute boundary has one
    // more tick before it, which the checks below pass over).
    const m = Math.floor(created / MINUTE) * MINUTE + MINUTE;
    clock = created;
    const scheduler = new TickScheduler(
      { db, commands, log: createLogger('test', 'error') },
      {
        memberId: 'only',
        members: () => ['only'],
        now: () => new Date(clock),
        lookaheadMs: 20_000,
        graceMs: 30_000,
        catchUpWindowMs: 5 * MINUTE,
      },
    );
    const runUntil = async (t: number) => {
      while (clock < t) {
        clock = Math.min(t, clock + 10_000);
        await scheduler.refresh();
        await scheduler.runPass();
      }
    };

    await runUntil(m + 2.5 * MINUTE);
    for (const id of paused.values()) await send(id, { type: 'PauseWorkflow', data: {} });
    await waitUntil(
      'paused in the read model',
      async () => (await statuses()).filter((s) => s === 'PAUSED').length === 3,
      20_000,
    );
    await runUntil(m + 9 * MINUTE + 40_000);
    for (const id of paused.values()) await send(id, { type: 'ResumeWorkflow', data: {} });
    await waitUntil('resumed', async () => (await statuses()).every((s) => s === 'ACTIVE'), 20_000);
    await runUntil(m + 11 * MINUTE);
    await scheduler.stop();

    const ledgerOf = async (id: string) => {
      const history = await aggregateHistory(env.runtime.events, userId, 'workflow', id, { limit: 10_000 });
      const ledger: [number, string][] = [];
      for (const { event } of history.entries) {
        const d = event.data as { scheduled_at?: string; nominal_at?: string; reason?: string };
        if (event.type === 'JobScheduled') ledger.push([Date.parse(d.scheduled_at!), 'fired']);
        if (event.type === 'TickSkipped') ledger.push([Date.parse(d.nominal_at!), d.reason!]);
      }
      // The read model's ledger (what GET /workflows/{id}/ticks serves) holds the same, once each.
      await waitUntil(
        'tick ledger projected',
        async () =>
          (await db.selectFrom('workflow_ticks').select('nominal_at').where('workflow_id', '=', id).execute())
            .length === ledger.length,
        20_000,
      );
      expect(ledger.filter(([t]) => t < m).every(([, outcome]) => outcome === 'fired')).toBe(true);
      return ledger.filter(([t]) => t >= m);
    };
    const minutes = (from: number, to: number, outcome: string) =>
      Array.from({ length: to - from + 1 }, (_, i): [number, string] => [m + (from + i) * MINUTE, outcome]);

    // Paused at m+2:30, resumed at m+9:40: ticks m+3 … m+9 fell due while paused.
    expect(await ledgerOf(paused.get('latest')!)).toEqual([
      ...minutes(0, 2, 'fired'),
      ...minutes(3, 8, 'paused'),
      ...minutes(9, 11, 'fired'),
    ]);
    expect(await ledgerOf(paused.get('all')!)).toEqual([
      ...minutes(0, 2, 'fired'),
      // More than the five-minute window old at the resume.
      ...minutes(3, 4, 'paused'),
      ...minutes(5, 11, 'fired'),
    ]);
    expect(await ledgerOf(paused.get('none')!)).toEqual([
      ...minutes(0, 2, 'fired'),
      ...minutes(3, 9, 'paused'),
      ...minutes(10, 11, 'fired'),
    ]);
    // Every tick up to end_at fires, the first one after it is the marker, and nothing follows.
    const ended = await ledgerOf(ending);
    expect(ended.at(-1)).toEqual([endAt + MINUTE, 'end_reached']);
    expect(ended.slice(0, -1)).toEqual(minutes(0, (endAt - m) / MINUTE, 'fired'));
  });
});

function iso(ms: number): string {
  return new Date(ms).toISOString();
}
