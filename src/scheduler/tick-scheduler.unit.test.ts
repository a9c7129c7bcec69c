// The scheduling loop against the real workflow decider, with the clock stepped by hand: an in-memory
// event log stands in for NATS and a view of it for the read model, so minutes of schedule take
// milliseconds. Each spec reads as a ledger: every nominal tick once, fired or skipped with a reason.
import type { Kysely } from 'kysely';
import { describe, expect, it } from 'vitest';
import { heartbeatCreated } from '../../test/support/workflow-fixtures.ts';
import { evolveAll } from '../actors/aggregate.ts';
import type { CommandHandler } from '../actors/command-handler.ts';
import { workflowDecider } from '../actors/workflow-decider.ts';
import { workflowMachine, workflowStatus } from '../actors/workflow-machine.ts';
import type {
  CatchUpPolicy,
  WorkflowCommand,
  WorkflowEvent,
  WorkflowSchedule,
} from '../events/workflow-events.ts';
import type { Database } from '../infra/database.ts';
import { createLogger } from '../telemetry/logger.ts';
import { TickScheduler } from './tick-scheduler.ts';

const CREATED = Date.parse('2026-03-01T10:00:00Z');
const WF = 'wf1';

/** One workflow's log, its decider, a stepped clock and a read model that may lag (`statusShown`). */
function world(schedule: WorkflowSchedule, options: { catchUpWindowMs?: number } = {}) {
  let now = CREATED;
  const log: WorkflowEvent[] = [
    { ...heartbeatCreated, data: { ...heartbeatCreated.data, workflow_id: WF, schedule } },
    { type: 'WorkflowBuildCompleted', data: {} },
  ];
  const state = () => evolveAll(workflowMachine, log);
  const handle = (command: WorkflowCommand) => {
    const events = workflowDecider.decide(command, state(), { now: new Date(now) });
    log.push(...events);
    return events;
  };
  const commands = {
    handle: async (_decider: unknown, request: { command: WorkflowCommand }) => {
      const events = handle(request.command);
      return { events, version: log.length, state: state() };
    },
    load: async () => ({ state: state(), version: log.length, exists: true }),
  } as unknown as CommandHandler;
  let statusShown: 'ACTIVE' | 'PAUSED' | undefined;
  const rows = () => {
    const s = state();
    const lifecycle = workflowStatus(s).lifecycle;
    const status = statusShown ?? lifecycle.toUpperCase();
    if (status !== 'ACTIVE' && status !== 'PAUSED') return [];
    const last = s.context.last_tick_at;
    return [
      {
        id: WF,
        user_id: 'u1',
        schedule: s.context.schedule,
        created_at: new Date(CREATED),
        last_tick_at: last === null ? null : new Date(last),
        status,
        tick_withdrawals: log.filter((e) => e.type === 'TicksWithdrawn' && e.data.reason === 'paused').length,
      },
    ];
  };
  const query = { select: () => query, where: () => query, execute: async () => rows() };
  const db = { selectFrom: () => query } as unknown as Kysely<Database>;
  const scheduler = new TickScheduler(
    { db, commands, log: createLogger('test', 'error') },
    {
      memberId: 'm1',
      members: () => ['m1'],
      now: () => new Date(now),
      lookaheadMs: 20_000,
      graceMs: 30_000,
      catchUpWindowMs: options.catchUpWindowMs ?? 3_600_000,
    },
  );
  return {
    handle,
    /** Lets the read model show a status other than the actor's (undefined: the actor's). */
    showStatus(status: 'ACTIVE' | 'PAUSED' | undefined) {
      statusShown = status;
    },
    /** Moves the clock to `hhmmss` (10:00:00 is creation) in 10-second steps, refreshing and passing. */
    async runUntil(hhmmss: string) {
      const until = Date.parse(`2026-03-01T${hhmmss}Z`);
      while (now < until) {
        now = Math.min(until, now + 10_000);
        await scheduler.refresh();
        await scheduler.runPass();
      }
    },
    /** Moves the clock with no scheduler running (an outage). */
    skipTo(hhmmss: string) {
      now = Date.parse(`2026-03-01T${hhmmss}Z`);
    },
    /** The ledger as "hh:mm:ss outcome" lines, in log order. */
    ledger() {
      return log.flatMap((e) => {
        if (e.type === 'JobScheduled' && e.data.trigger === 'AUTOMATIC')
          return [`${e.data.scheduled_at.slice(11, 19)} fired`];
        if (e.type === 'TickSkipped') return [`${e.data.nominal_at.slice(11, 19)} ${e.data.reason}`];
        return [];
      });
    },
  };
}

const everyMinute = (catch_up: CatchUpPolicy): WorkflowSchedule => ({
  type: 'interval',
  minutes: 1,
  catch_up,
  // Nothing runs the jobs here: under the default `skip` every tick after the first would overlap.
  overlap: 'allow',
});
const minutes = (from: number, to: number, outcome: string) =>
  Array.from({ length: to - from + 1 }, (_, i) => `10:${String(from + i).padStart(2, '0')}:00 ${outcome}`);

describe('catch-up on resume', () => {
  async function pauseFrom0330To1040(policy: CatchUpPolicy, catchUpWindowMs?: number) {
    const w = world(everyMinute(policy), catchUpWindowMs === undefined ? {} : { catchUpWindowMs });
    await w.runUntil('10:03:30');
    w.handle({ type: 'PauseWorkflow', data: {} });
    await w.runUntil('10:10:40');
    w.handle({ type: 'ResumeWorkflow', data: {} });
    await w.runUntil('10:12:00');
    return w.ledger();
  }

  it('latest: the newest tick of the pause fires on resume, the others are recorded as paused', async () => {
    expect(await pauseFrom0330To1040('latest')).toEqual([
      ...minutes(1, 3, 'fired'),
      ...minutes(4, 9, 'paused'),
      '10:10:00 fired',
      ...minutes(11, 12, 'fired'),
    ]);
  });

  it('all: the ticks of the pause within the catch-up window fire on resume', async () => {
    expect(await pauseFrom0330To1040('all', 5 * 60_000)).toEqual([
      ...minutes(1, 3, 'fired'),
      // Older than five minutes at the resume (10:10:40): given up while paused.
      ...minutes(4, 5, 'paused'),
      ...minutes(6, 10, 'fired'),
      ...minutes(11, 12, 'fired'),
    ]);
  });

  it('none: every tick of the pause is recorded as paused when due; the next one fires', async () => {
    expect(await pauseFrom0330To1040('none')).toEqual([
      ...minutes(1, 3, 'fired'),
      ...minutes(4, 10, 'paused'),
      ...minutes(11, 12, 'fired'),
    ]);
  });

  it('records the ticks of a pause as they fall due, holding only what the policy would fire', async () => {
    const w = world(everyMinute('latest'));
    await w.runUntil('10:03:30');
    w.handle({ type: 'PauseWorkflow', data: {} });
    await w.runUntil('10:06:10');
    // 10:06 is held for the resume; nothing past it is decided ahead while paused.
    expect(w.ledger()).toEqual([...minutes(1, 3, 'fired'), ...minutes(4, 5, 'paused')]);
  });

  it('a resume the read model has not caught up with: the held tick fires, not skipped', async () => {
    const w = world(everyMinute('latest'));
    await w.runUntil('10:03:30');
    w.handle({ type: 'PauseWorkflow', data: {} });
    await w.runUntil('10:06:10');
    w.showStatus('PAUSED');
    w.handle({ type: 'ResumeWorkflow', data: {} });
    await w.runUntil('10:08:00');
    expect(w.ledger()).toEqual([
      ...minutes(1, 3, 'fired'),
      ...minutes(4, 5, 'paused'),
      ...minutes(6, 8, 'fired'),
    ]);
  });

  it('a pause the read model has not caught up with: one tick races it, then the policy holds', async () => {
    const w = world(everyMinute('latest'));
    await w.runUntil('10:03:30');
    w.showStatus('ACTIVE');
    w.handle({ type: 'PauseWorkflow', data: {} });
    await w.runUntil('10:06:10');
    w.handle({ type: 'ResumeWorkflow', data: {} });
    await w.runUntil('10:08:00');
    expect(w.ledger()).toEqual([
      ...minutes(1, 3, 'fired'),
      // Decided 20 s ahead while the scheduler still took the workflow for active.
      '10:04:00 paused',
      '10:05:00 paused',
      ...minutes(6, 8, 'fired'),
    ]);
  });
});

describe('a pause and a resume the read model never shows', () => {
  it('fires again within seconds of the resume, under every policy', async () => {
    for (const policy of ['latest', 'all', 'none'] as const) {
      const w = world(everyMinute(policy));
      await w.runUntil('10:03:30');
      w.showStatus('ACTIVE');
      w.handle({ type: 'PauseWorkflow', data: {} });
      await w.runUntil('10:04:20'); // the 10:04 tick raced the pause
      w.handle({ type: 'ResumeWorkflow', data: {} });
      await w.runUntil('10:05:30');
      // The 10:05 tick is not held as if paused: it fires on time.
      expect(w.ledger(), policy).toEqual([...minutes(1, 3, 'fired'), '10:04:00 paused', '10:05:00 fired']);
    }
  });
});

describe('end of a schedule', () => {
  it('records end_reached once, for the first tick after end_at, and then nothing', async () => {
    const w = world({ ...everyMinute('latest'), end_at: '2026-03-01T10:03:00Z' });
    await w.runUntil('10:10:00');
    expect(w.ledger()).toEqual([...minutes(1, 3, 'fired'), '10:04:00 end_reached']);
  });

  it('records it after the catch-up when the schedule ended during a scheduler outage', async () => {
    const w = world({ ...everyMinute('latest'), end_at: '2026-03-01T10:05:30Z' });
    await w.runUntil('10:01:00');
    w.skipTo('10:10:00');
    await w.runUntil('10:11:00');
    expect(w.ledger()).toEqual([
      '10:01:00 fired',
      ...minutes(2, 4, 'missed'),
      '10:05:00 fired',
      '10:06:00 end_reached',
    ]);
  });

  it('a one-off records its one tick and no marker', async () => {
    const w = world({ type: 'at', at: '2026-03-01T10:02:00Z' });
    await w.runUntil('10:10:00');
    expect(w.ledger()).toEqual(['10:02:00 fired']);
  });

  it('a one-off whose end_at comes first records its tick as end_reached', async () => {
    const w = world({ type: 'at', at: '2026-03-01T10:02:00Z', end_at: '2026-03-01T10:01:00Z' });
    await w.runUntil('10:10:00');
    expect(w.ledger()).toEqual(['10:02:00 end_reached']);
  });

  it('a paused workflow whose schedule ends: the marker is recorded, and resuming fires nothing', async () => {
    const w = world({ ...everyMinute('none'), end_at: '2026-03-01T10:05:00Z' });
    await w.runUntil('10:02:30');
    w.handle({ type: 'PauseWorkflow', data: {} });
    await w.runUntil('10:08:00');
    w.handle({ type: 'ResumeWorkflow', data: {} });
    await w.runUntil('10:10:00');
    expect(w.ledger()).toEqual([
      ...minutes(1, 2, 'fired'),
      ...minutes(3, 5, 'paused'),
      '10:06:00 end_reached',
    ]);
  });
});
