// Deciding ahead must not change what runs. The scheduling loop and the real workflow decider run on
// a simulated clock with an executor that starts each job at its nominal time and ends it after its
// duration; a reference model decides every tick at its nominal time with no lookahead (overlap
// judged against the jobs running then, a queue_one job started when the one before it ends, pauses
// held for the catch-up on resume). Over random
// schedules (1 s to 10 min), job durations, lookahead windows (0–60 s), overlap and catch-up
// policies and pause/resume instants, the two give the same ledger and the same runs.
//
// Time grid: ticks fall on whole seconds, the scheduler passes every 100 ms, and job ends, pauses and
// resumes fall on the 50 ms between two passes, so no two things happen at once and "when due" is
// exactly the tick's nominal time for both sides. The read model is as fresh as the actor at every
// pass (its lag is covered by tick-scheduler.unit.test.ts).
import fc from 'fast-check';
import type { Kysely } from 'kysely';
import { describe, expect, it } from 'vitest';
import { heartbeatCreated } from '../../test/support/workflow-fixtures.ts';
import { evolve, evolveAll } from '../actors/aggregate.ts';
import type { CommandHandler } from '../actors/command-handler.ts';
import { workflowDecider } from '../actors/workflow-decider.ts';
import { type WorkflowSnapshot, workflowMachine, workflowStatus } from '../actors/workflow-machine.ts';
import type {
  CatchUpPolicy,
  OverlapPolicy,
  WorkflowCommand,
  WorkflowEvent,
  WorkflowSchedule,
} from '../events/workflow-events.ts';
import type { Database } from '../infra/database.ts';
import { createLogger } from '../telemetry/logger.ts';
import { ticksBetween } from './due-times.ts';
import { specOf } from './tick-plan.ts';
import { TickScheduler } from './tick-scheduler.ts';

const CREATED = Date.parse('2026-03-01T10:00:00Z');
const WF = 'wf1';
const PASS_MS = 100;

type Scenario = {
  readonly cron: string;
  readonly periodMs: number;
  readonly ticks: number;
  readonly lookaheadMs: number;
  readonly overlap: OverlapPolicy;
  readonly catchUp: CatchUpPolicy;
  readonly windowMs: number;
  /** Job duration of the i-th tick (cycled), a multiple of 100 ms plus 50. */
  readonly durationsMs: readonly number[];
  /** [pause, resume) as offsets from creation, on the 50 ms grid; resume may lie past the end. */
  readonly pauses: readonly (readonly [number, number])[];
};

/** What both sides produce: the final ledger and every job that ran. */
type Outcome = {
  ledger: Record<string, string>;
  runs: { nominal: string; start: number; end: number }[];
};

const ceilPass = (t: number) => Math.ceil(t / PASS_MS) * PASS_MS;

function scheduleOf(s: Scenario): WorkflowSchedule {
  return { type: 'cron', cron: s.cron, timezone: 'UTC', overlap: s.overlap, catch_up: s.catchUp };
}

function endOf(s: Scenario): number {
  return CREATED + s.ticks * s.periodMs;
}

function nominalTicks(s: Scenario): number[] {
  const spec = specOf(scheduleOf(s), new Date(CREATED), WF);
  return ticksBetween(spec, new Date(CREATED), new Date(endOf(s)), 10_000).map((t) => t.at.getTime());
}

function durationOf(s: Scenario, ticks: readonly number[], nominal: number): number {
  return s.durationsMs[ticks.indexOf(nominal) % s.durationsMs.length]!;
}

/** The reference: every tick decided at its nominal time (or at the resume that catches it up). */
function reference(s: Scenario): Outcome {
  const ticks = nominalTicks(s);
  const end = endOf(s);
  const ledger: Record<string, string> = {};
  const jobs: { nominal: number; start: number; end: number }[] = [];
  // Decisions as (when, tick): a tick of no pause when due; a tick of a pause that the catch-up fires
  // at the first pass after the resume; the others of the pause are `paused`.
  const decisions: { at: number; tick: number }[] = [];
  for (const tick of ticks) {
    const pause = s.pauses.find(([p, r]) => CREATED + p < tick && tick < CREATED + r);
    if (!pause) {
      decisions.push({ at: tick, tick });
      continue;
    }
    const resumedAt = ceilPass(CREATED + pause[1]);
    const ofPause = ticks.filter((t) => CREATED + pause[0] < t && t < CREATED + pause[1]);
    // The last pass of a run is one after its last tick.
    const decidedBy = Math.min(resumedAt, end + PASS_MS);
    const resumed = resumedAt <= end + PASS_MS;
    // Which ticks of the pause the catch-up policy keeps for the resume (were it resumed at decidedBy).
    const kept = (t: number) =>
      s.catchUp === 'latest'
        ? t === ofPause.at(-1)
        : s.catchUp === 'all'
          ? decidedBy - t <= s.windowMs
          : false;
    if (!kept(tick)) ledger[new Date(tick).toISOString()] = 'skipped:paused';
    else if (resumed) decisions.push({ at: resumedAt, tick });
    // else: held at the end of the run, undecided on both sides.
  }
  decisions.sort((a, b) => a.at - b.at || a.tick - b.tick);
  for (const { at, tick } of decisions) {
    const active = jobs.filter((j) => j.end > at);
    const nominal = new Date(tick).toISOString();
    const skip =
      (s.overlap === 'skip' && active.length > 0) || (s.overlap === 'queue_one' && active.length > 1);
    if (skip) {
      ledger[nominal] = 'skipped:overlap';
      continue;
    }
    if (s.overlap === 'cancel_running') for (const j of active) j.end = at;
    ledger[nominal] = 'fired';
    // queue_one: the new job starts when the one running ends.
    const start = s.overlap === 'queue_one' && active.length === 1 ? active[0]!.end : at;
    jobs.push({ nominal: tick, start, end: start + durationOf(s, ticks, tick) });
  }
  return {
    ledger,
    runs: jobs
      .filter((j) => j.start <= end + PASS_MS)
      .map((j) => ({ nominal: new Date(j.nominal).toISOString(), start: j.start, end: j.end })),
  };
}

/** The scheduler as it runs, on the real decider, with a simulated executor and clock. */
async function simulate(s: Scenario): Promise<Outcome> {
  const ticks = nominalTicks(s);
  const end = endOf(s);
  let now = CREATED;
  let state: WorkflowSnapshot = evolveAll(workflowMachine, [
    { ...heartbeatCreated, data: { ...heartbeatCreated.data, workflow_id: WF, schedule: scheduleOf(s) } },
    { type: 'WorkflowBuildCompleted', data: {} },
  ]);
  let withdrawals = 0;
  const ledger: Record<string, string> = {};
  type Job = {
    id: string;
    nominal: number;
    start: number;
    end: number;
    withdrawn: boolean;
    recorded: boolean;
  };
  const jobs = new Map<string, Job>();
  // The instants something may happen at: the sim visits each in order.
  const pending = new Set<number>();
  const at = (t: number) => {
    if (t >= now && t <= end + PASS_MS) pending.add(t);
  };

  const apply = (events: readonly WorkflowEvent[]) => {
    for (const e of events) {
      state = evolve(workflowMachine, state, e);
      if (e.type === 'JobScheduled' && e.data.trigger === 'AUTOMATIC') {
        const nominal = Date.parse(e.data.scheduled_at);
        // A queue_one job waits, unqueued, until it is released.
        const start = e.data.waits_for?.length ? Number.POSITIVE_INFINITY : Math.max(nominal, now);
        const job = {
          id: e.data.job_id,
          nominal,
          start,
          end: start + durationOf(s, ticks, nominal),
          withdrawn: false,
          recorded: false,
        };
        jobs.set(job.id, job);
        at(job.start);
        at(job.end);
        at(ceilPass(job.end));
        ledger[e.data.scheduled_at] = 'fired';
        // cancel_running: the replaced jobs stop now, and their end is recorded at once.
        for (const id of e.data.replaces ?? []) {
          const replaced = jobs.get(id)!;
          replaced.end = Math.min(replaced.end, now);
        }
      } else if (e.type === 'JobReleased') {
        const job = jobs.get(e.data.job_id)!;
        job.start = Math.max(job.nominal, now);
        job.end = job.start + durationOf(s, ticks, job.nominal);
        at(job.end);
        at(ceilPass(job.end));
      } else if (e.type === 'TickSkipped') {
        ledger[e.data.nominal_at] = `skipped:${e.data.reason}`;
      } else if (e.type === 'TicksWithdrawn') {
        if (e.data.reason === 'paused') withdrawals++;
        for (const t of e.data.ticks) {
          const job = jobs.get(t.job_id)!;
          // Withdrawn before it was due: an executor never starts it.
          expect(job.start).toBeGreaterThan(now);
          job.withdrawn = true;
          if (e.data.reason === 'paused') delete ledger[t.nominal_at];
          else ledger[t.nominal_at] = 'skipped:terminated';
        }
      }
    }
  };
  const decide = (command: WorkflowCommand) => {
    const events = workflowDecider.decide(command, state, { now: new Date(now) });
    apply(events);
    return events;
  };
  const recordEnds = () => {
    const ended = [...jobs.values()]
      .filter((j) => !j.withdrawn && !j.recorded && j.end <= now)
      .sort((a, b) => a.end - b.end);
    for (const j of ended) {
      j.recorded = true;
      decide({ type: 'RecordJobOutcome', data: { job_id: j.id, outcome: 'COMPLETED' } });
    }
  };

  let commandsSent = 0;
  const commands = {
    handle: async (_decider: unknown, request: { command: WorkflowCommand }) => {
      commandsSent++;
      const events = decide(request.command);
      return { events, version: 0, state };
    },
    load: async () => ({ state, version: 0, exists: true }),
  } as unknown as CommandHandler;
  const rows = () => {
    const lifecycle = workflowStatus(state).lifecycle;
    if (lifecycle !== 'active' && lifecycle !== 'paused') return [];
    const last = state.context.last_tick_at;
    return [
      {
        id: WF,
        user_id: 'u1',
        schedule: state.context.schedule,
        created_at: new Date(CREATED),
        last_tick_at: last === null ? null : new Date(last),
        status: lifecycle.toUpperCase(),
        tick_withdrawals: withdrawals,
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
      lookaheadMs: s.lookaheadMs,
      graceMs: 30_000,
      catchUpWindowMs: s.windowMs,
    },
  );

  for (const t of ticks) {
    at(ceilPass(t - s.lookaheadMs));
    at(t);
    at(t + PASS_MS);
    at(ceilPass(t + s.windowMs + 1));
  }
  for (const [p, r] of s.pauses) {
    for (const t of [CREATED + p, CREATED + r]) {
      at(t);
      at(ceilPass(t));
    }
  }
  at(CREATED + PASS_MS);
  at(end);
  while (pending.size > 0) {
    now = Math.min(...pending);
    pending.delete(now);
    recordEnds();
    for (const [p, r] of s.pauses) {
      if (now === CREATED + p) decide({ type: 'PauseWorkflow', data: {} });
      if (now === CREATED + r) decide({ type: 'ResumeWorkflow', data: {} });
    }
    if (now % PASS_MS === 0) {
      const sent = commandsSent;
      await scheduler.refresh();
      await scheduler.runPass();
      // Whatever it sent may have freed the next tick to look at: look again on the next pass.
      if (commandsSent > sent) at(now + PASS_MS);
      if (now > end) break;
    }
  }
  const decided = Object.fromEntries(
    Object.entries(ledger)
      .filter(([nominal]) => Date.parse(nominal) <= end)
      .sort(([a], [b]) => a.localeCompare(b)),
  );
  return {
    ledger: decided,
    runs: [...jobs.values()]
      .filter((j) => !j.withdrawn && j.start <= end + PASS_MS)
      .sort((a, b) => a.start - b.start || a.nominal - b.nominal)
      .map((j) => ({ nominal: new Date(j.nominal).toISOString(), start: j.start, end: j.end })),
  };
}

const periods: { cron: string; periodMs: number }[] = [
  ...[1, 2, 3, 5, 10, 15, 20, 30].map((n) => ({ cron: `*/${n} * * * * *`, periodMs: n * 1000 })),
  ...[1, 2, 5, 10].map((n) => ({ cron: `0 */${n} * * * *`, periodMs: n * 60_000 })),
];

const scenarios: fc.Arbitrary<Scenario> = fc
  .record({
    period: fc.constantFrom(...periods),
    ticks: fc.integer({ min: 4, max: 24 }),
    lookaheadMs: fc.oneof(
      fc.constant(0),
      fc.integer({ min: 0, max: 600 }).map((k) => k * 100),
    ),
    overlap: fc.constantFrom<OverlapPolicy>('skip', 'queue_one', 'allow', 'cancel_running'),
    catchUp: fc.constantFrom<CatchUpPolicy>('latest', 'all', 'none'),
    windowK: fc.integer({ min: 0, max: 12 }),
    durationFactors: fc.array(fc.double({ min: 0, max: 3, noNaN: true }), { minLength: 1, maxLength: 6 }),
    pauseFractions: fc.array(
      fc.tuple(fc.double({ min: 0, max: 1, noNaN: true }), fc.double({ min: 0, max: 0.4, noNaN: true })),
      {
        maxLength: 3,
      },
    ),
  })
  .map(({ period, ticks, lookaheadMs, overlap, catchUp, windowK, durationFactors, pauseFractions }) => {
    const span = ticks * period.periodMs;
    const snap = (ms: number) => Math.floor(ms / 100) * 100 + 50;
    // Non-overlapping pauses, in order, each with a resume after it (possibly past the end).
    const pauses: [number, number][] = [];
    let from = -50;
    for (const [start, length] of [...pauseFractions].sort((a, b) => a[0] - b[0])) {
      const p = Math.max(snap(start * span), from + 100);
      const r = snap(p + Math.max(100, length * span));
      if (p >= span) break;
      pauses.push([p, r]);
      from = r;
    }
    return {
      cron: period.cron,
      periodMs: period.periodMs,
      ticks,
      lookaheadMs,
      overlap,
      catchUp,
      windowMs: windowK * period.periodMs + 550,
      durationsMs: durationFactors.map((f) => snap(f * period.periodMs)),
      pauses,
    };
  });

describe('deciding ahead changes nothing that runs', () => {
  it('equals the reference model over random schedules, durations, lookaheads, policies and pauses', async () => {
    await fc.assert(
      fc.asyncProperty(scenarios, async (s) => {
        expect(await simulate(s)).toEqual(reference(s));
      }),
      { seed: 20261206, numRuns: 150 },
    );
  });

  it('a 2-second cron with instant jobs fires every tick under a 20 s lookahead', async () => {
    const s: Scenario = {
      cron: '*/2 * * * * *',
      periodMs: 2000,
      ticks: 10,
      lookaheadMs: 20_000,
      overlap: 'skip',
      catchUp: 'latest',
      windowMs: 3_600_000,
      durationsMs: [50],
      pauses: [],
    };
    const { ledger } = await simulate(s);
    expect(Object.values(ledger)).toEqual(Array(10).fill('fired'));
  });

  it('a pause withdraws the ticks decided ahead; a resume before they are due lets them fire', async () => {
    const s: Scenario = {
      cron: '*/2 * * * * *',
      periodMs: 2000,
      ticks: 10,
      lookaheadMs: 20_000,
      overlap: 'allow',
      catchUp: 'none',
      windowMs: 550,
      durationsMs: [50],
      // Paused at 10:00:05.05 until 10:00:11.05: 06, 08 and 10 are paused; 12 fires when due.
      pauses: [[5050, 11_050]],
    };
    const { ledger, runs } = await simulate(s);
    expect(ledger).toEqual(reference(s).ledger);
    expect(Object.entries(ledger).map(([k, v]) => `${k.slice(17, 19)} ${v}`)).toEqual([
      '02 fired',
      '04 fired',
      '06 skipped:paused',
      '08 skipped:paused',
      '10 skipped:paused',
      '12 fired',
      '14 fired',
      '16 fired',
      '18 fired',
      '20 fired',
    ]);
    expect(runs.map((r) => r.nominal.slice(17, 19))).toEqual(['02', '04', '12', '14', '16', '18', '20']);
  });
});
