// Thundering herd (issue 5): N active workflows whose cron schedules all name the same second (one
// instant T, `S M H * * *` in UTC, a little in the future), one `chronoverse scheduler` process (tick
// scheduler + job lifecycle and dispatch reactors), the Postgres read models projected in this
// process. No executor: the dispatch messages stay in CV_DISPATCH, where they are counted and timed.
// For every workflow: T to its JobScheduled commit (the commit's JetStream timestamp; the envelope's
// occurredAt, the deciding handler's clock, beside it), and T to its dispatch message (the message's
// JetStream timestamp; the dispatch carries not_before = T and is published ahead, so this may be
// negative). And how many workflows one scheduler holds: the process's resident memory with none and
// with N, its CPU while it waits for T, and TickScheduler.refresh timed in this process on the same
// database.

import { randomUUID } from 'node:crypto';
import { CommandHandler } from '../src/actors/command-handler.ts';
import { type DispatchMessage, decodeDispatch } from '../src/actors/dispatch-message.ts';
import { workflowDecider } from '../src/actors/workflow-decider.ts';
import { loadConfig } from '../src/config/config.ts';
import { streamNames } from '../src/events/stream-definitions.ts';
import { postgresReadModels } from '../src/projections/postgres-read-models.ts';
import { ProjectionRunner } from '../src/projections/projection-runner.ts';
import { TickScheduler } from '../src/scheduler/tick-scheduler.ts';
import { createHeartbeat } from '../test/support/fixtures.ts';
import type { Benchmark, Scale } from './support/benchmark.ts';
import { type BenchEnvironment, openBenchEnvironment } from './support/environment.ts';
import {
  type BenchRole,
  cpuMs,
  jetStreamApiCalls,
  natsServerPid,
  readCommits,
  rssMib,
  sampleRss,
  startBenchRole,
} from './support/role-processes.ts';
import { latency, median, percentile, perSecond, round, runPool } from './support/stats.ts';

interface HerdSizes {
  workflows: number;
  /** From the start of the log's writing to T: room for writing it, projecting it, starting the scheduler. */
  leadMs: number;
  /** How long after T every workflow must have its JobScheduled and its dispatch message. */
  settleMs: number;
  refreshRuns: number;
}

const sizes: Record<Scale, HerdSizes> = {
  full: { workflows: 10_000, leadMs: 120_000, settleMs: 180_000, refreshRuns: 5 },
  small: { workflows: 500, leadMs: 20_000, settleMs: 30_000, refreshRuns: 5 },
};

const USERS = 100;
const CREATE_IN_FLIGHT = 256;
/** The scheduler role's default CV_SCHEDULER_LOOKAHEAD_MS, stated so the report names it. */
const LOOKAHEAD_MS = loadConfig({}).CV_SCHEDULER_LOOKAHEAD_MS;
/** Issue 5's target: every workflow's job dispatched within 2 s of its nominal time at the 99th percentile. */
const TARGET = { workflows: 10_000, p99_below_ms: 2000 };

/** `S M H * * *` in UTC: once a day, at the second of `at`. */
function cronAt(at: number): string {
  const d = new Date(at);
  return `${d.getUTCSeconds()} ${d.getUTCMinutes()} ${d.getUTCHours()} * * *`;
}

/** Epoch ms of an RFC 3339 timestamp with up to nanosecond digits (Date.parse keeps milliseconds). */
function isoNanosToMs(iso: string): number {
  const m = /^(.*T\d\d:\d\d:\d\d)(?:\.(\d+))?Z$/.exec(iso);
  if (!m) return Date.parse(iso);
  return Date.parse(`${m[1]}Z`) + (m[2] ? Number(`0.${m[2]}`) * 1000 : 0);
}

async function createWorkflows(
  env: BenchEnvironment,
  n: number,
  cron: string,
): Promise<{ ids: Map<string, string>; durationMs: number }> {
  const handler = new CommandHandler(env.events);
  const users = Array.from({ length: USERS }, () => randomUUID());
  const ids = new Map<string, string>();
  const plan = Array.from({ length: n }, (_, i) => ({ userId: users[i % USERS]!, workflowId: randomUUID() }));
  const started = performance.now();
  await runPool(plan, CREATE_IN_FLIGHT, async ({ userId, workflowId }) => {
    await handler.handle(workflowDecider, {
      commandId: randomUUID(),
      userId,
      aggregateId: workflowId,
      command: createHeartbeat(userId, workflowId, {
        name: 'herd',
        schedule: { type: 'cron', cron, timezone: 'UTC' },
        max_consecutive_job_failures_allowed: 100,
      }),
    });
    ids.set(workflowId, userId);
  });
  return { ids, durationMs: performance.now() - started };
}

/** TickScheduler.refresh (the read model query and the entries map) timed in this process. */
async function timeRefresh(
  env: BenchEnvironment,
  runs: number,
): Promise<{ runs_ms: number[]; owned: number }> {
  const ticks = new TickScheduler(
    { db: env.db, commands: new CommandHandler(env.events), log: env.log },
    { memberId: 'bench', members: () => ['bench'] },
  );
  const out: number[] = [];
  for (let r = 0; r < runs; r++) {
    const t0 = performance.now();
    await ticks.refresh();
    out.push(round(performance.now() - t0, 1));
  }
  return { runs_ms: out, owned: ticks.owned };
}

/** The scheduler's resident memory, median of a few samples a moment apart. */
async function steadyRss(pid: number): Promise<number> {
  const samples: number[] = [];
  for (let i = 0; i < 5; i++) {
    samples.push(await rssMib(pid));
    await sleep(200);
  }
  return round(median(samples), 1);
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, Math.max(0, ms)));
}

/** Every message of CV_DISPATCH (none is consumed: no executor runs), with its JetStream timestamp. */
async function readDispatch(
  env: BenchEnvironment,
): Promise<{ message: DispatchMessage; storedAt: number }[]> {
  const info = await env.nats.jsm.streams.info(streamNames.dispatch);
  const seqs: number[] = [];
  for (let s = info.state.first_seq; s <= info.state.last_seq && info.state.messages > 0; s++) seqs.push(s);
  const out: { message: DispatchMessage; storedAt: number }[] = [];
  await runPool(seqs, 32, async (seq) => {
    const m = await env.nats.jsm.streams.getMessage(streamNames.dispatch, { seq });
    if (m) out.push({ message: decodeDispatch(m.data), storedAt: isoNanosToMs(m.timestamp) });
  });
  return out;
}

export const herdBenchmark: Benchmark = {
  name: 'herd',
  description:
    'N workflows due at the same second: nominal time to JobScheduled and to dispatch, one scheduler',
  async run(scale, progress) {
    const s = sizes[scale];
    const env = await openBenchEnvironment('herd', progress);
    const projection = new ProjectionRunner({ nats: env.nats, db: env.db, log: env.log }, postgresReadModels);
    let scheduler: BenchRole | undefined;
    try {
      await projection.start();

      // Baseline of the same run: a scheduler process and a refresh with no workflow at all.
      progress('herd: baseline, a scheduler with no workflow');
      const empty = await startBenchRole('scheduler', env.config);
      await sleep(1000);
      const rssEmpty = await steadyRss(empty.pid);
      await empty.stop();
      const refreshEmpty = await timeRefresh(env, s.refreshRuns);

      const nominal = Math.ceil((Date.now() + s.leadMs) / 1000) * 1000;
      const cron = cronAt(nominal);
      const T = new Date(nominal).toISOString();
      progress(`herd: creating ${s.workflows} workflows, cron "${cron}" UTC, all due at ${T}`);
      const created = await createWorkflows(env, s.workflows, cron);
      const lastSeq = (await env.nats.jsm.streams.info(streamNames.events)).state.last_seq;
      const projStarted = performance.now();
      await projection.waitFor(lastSeq);
      const projectedMs = performance.now() - projStarted;
      const rows = Number(
        (
          await env.db
            .selectFrom('workflows')
            .select((eb) => eb.fn.countAll().as('n'))
            .where('status', '=', 'ACTIVE')
            .where('build_status', '=', 'COMPLETED')
            .executeTakeFirstOrThrow()
        ).n,
      );
      if (rows !== s.workflows)
        throw new Error(`the read model holds ${rows} schedulable workflows, not ${s.workflows}`);
      progress(
        `herd: ${s.workflows} workflows written in ${round(created.durationMs / 1000, 1)}s, projected ${round(projectedMs / 1000, 1)}s later`,
      );
      const refreshFull = await timeRefresh(env, s.refreshRuns);
      if (refreshFull.owned !== s.workflows) throw new Error(`refresh found ${refreshFull.owned} workflows`);

      const schedulerStarted = performance.now();
      scheduler = await startBenchRole('scheduler', env.config, {
        CV_SCHEDULER_LOOKAHEAD_MS: String(LOOKAHEAD_MS),
      });
      const startMs = performance.now() - schedulerStarted;
      const readyAt = Date.now();
      const owned = Number(/"workflows_owned":(\d+)/.exec(scheduler.process.output())?.[1] ?? -1);
      if (owned !== s.workflows) throw new Error(`the scheduler owns ${owned} workflows, not ${s.workflows}`);
      const decideFrom = nominal - LOOKAHEAD_MS;
      if (readyAt > decideFrom - 1000) {
        throw new Error(
          `setup overran: the scheduler was ready ${round((readyAt - nominal) / 1000, 1)}s from T, later than T - lookahead - 1 s; raise leadMs`,
        );
      }
      progress(
        `herd: scheduler ready in ${round(startMs / 1000, 1)}s owning ${owned}; T in ${round((nominal - readyAt) / 1000, 1)}s`,
      );

      // Idle: what the scheduler costs while it holds N workflows and none is due yet.
      const cpuReady = await cpuMs(scheduler.pid);
      const idleFrom = performance.now();
      await sleep(decideFrom - 500 - Date.now());
      const idleCpu = (await cpuMs(scheduler.pid)) - cpuReady;
      const idleMs = performance.now() - idleFrom;
      const rssBefore = await rssMib(scheduler.pid);

      // The herd: wait until every dispatch message is in (or the deadline).
      const rss = sampleRss(scheduler.pid);
      const cpuHerd = await cpuMs(scheduler.pid);
      const natsPid = await natsServerPid(Number(new URL(env.config.NATS_URL).port));
      const natsCpuHerd = natsPid ? await cpuMs(natsPid) : 0;
      const apiHerd = await jetStreamApiCalls(env.nats);
      const deadline = nominal + s.settleMs;
      let dispatched = 0;
      while (Date.now() < deadline) {
        dispatched = (await env.nats.jsm.streams.info(streamNames.dispatch)).state.messages;
        if (dispatched >= s.workflows) break;
        await sleep(100);
      }
      const herdCpu = (await cpuMs(scheduler.pid)) - cpuHerd;
      const natsHerdCpu = natsPid ? (await cpuMs(natsPid)) - natsCpuHerd : null;
      const apiCalls = (await jetStreamApiCalls(env.nats)).total - apiHerd.total;
      const herdWallMs = Date.now() - (decideFrom - 500);
      const rssDuring = rss.stop();
      const rssAfter = await rssMib(scheduler.pid);
      progress(
        `herd: ${dispatched}/${s.workflows} dispatched ${round((Date.now() - nominal) / 1000, 1)}s after T`,
      );

      // The log: every workflow commit holding a JobScheduled, with its JetStream timestamp.
      const commits = await readCommits(env.nats, 'cv.evt.*.workflow.>', (types) =>
        types.some((t) => t === 'JobScheduled' || t === 'TickSkipped'),
      );
      const scheduled = new Map<string, { storedAt: number; occurredAt: number }>();
      let skipped = 0;
      let otherNominal = 0;
      for (const c of commits) {
        for (const e of c.events) {
          if (e.type === 'TickSkipped') skipped++;
          if (e.type !== 'JobScheduled') continue;
          if ((e.data as { scheduled_at: string }).scheduled_at !== T) {
            otherNominal++;
            continue;
          }
          scheduled.set(e.aggregateId, { storedAt: c.storedAt, occurredAt: Date.parse(e.occurredAt) });
        }
      }
      const dispatch = await readDispatch(env);
      const dispatchedAt = new Map<string, number>();
      let wrongNotBefore = 0;
      for (const d of dispatch) {
        if (d.message.not_before === null || Date.parse(d.message.not_before) !== nominal) wrongNotBefore++;
        dispatchedAt.set(d.message.workflow_id, d.storedAt);
      }
      const ids = [...created.ids.keys()];
      const missingScheduled = ids.filter((id) => !scheduled.has(id));
      const missingDispatch = ids.filter((id) => !dispatchedAt.has(id));
      const commitLag = [...scheduled.values()].map((v) => v.storedAt - nominal);
      const occurredLag = [...scheduled.values()].map((v) => v.occurredAt - nominal);
      const dispatchLag = [...dispatchedAt.values()].map((t) => t - nominal);
      const scheduledToDispatch = ids
        .filter((id) => scheduled.has(id) && dispatchedAt.has(id))
        .map((id) => dispatchedAt.get(id)! - scheduled.get(id)!.storedAt);
      const span = (lags: number[]) => ({
        first_ms: lags.length ? round(Math.min(...lags), 1) : 0,
        last_ms: lags.length ? round(Math.max(...lags), 1) : 0,
      });
      const perSecondOver = (lags: number[]) =>
        lags.length > 1 ? perSecond(lags.length, Math.max(...lags) - Math.min(...lags)) : 0;

      const rssN = round(rssBefore, 1);
      const refreshMedian = median(refreshFull.runs_ms);
      const idleCpuPercent = round((idleCpu / idleMs) * 100, 1);
      const commitP99 = percentile(commitLag, 99);
      const dispatchP99 = percentile(dispatchLag, 99);
      const judged = s.workflows === TARGET.workflows;
      const complete = missingScheduled.length === 0 && missingDispatch.length === 0;
      return {
        runs: 1,
        workload: {
          workflows: s.workflows,
          users: USERS,
          kind: 'HEARTBEAT (never run: no executor)',
          schedule: { type: 'cron', cron, timezone: 'UTC', nominal_at: T },
          scheduler: {
            process:
              'chronoverse scheduler (tick scheduler, job lifecycle and dispatch reactors), one replica',
            lookahead_ms: LOOKAHEAD_MS,
            ready_ms_before_t: nominal - readyAt,
            start_ms: round(startMs, 0),
          },
          projector: 'ProjectionRunner(postgresReadModels) in the benchmark process',
        },
        setup: {
          create: {
            in_flight: CREATE_IN_FLIGHT,
            duration_ms: round(created.durationMs, 1),
            commands_per_s: perSecond(s.workflows, created.durationMs),
          },
          projection_catch_up_after_create_ms: round(projectedMs, 1),
        },
        seen: {
          scheduled: scheduled.size,
          dispatched: dispatchedAt.size,
          expected: s.workflows,
          missing_scheduled: missingScheduled.length,
          missing_dispatched: missingDispatch.length,
          missing_examples: [...new Set([...missingScheduled, ...missingDispatch])].slice(0, 10),
          tick_skipped: skipped,
          job_scheduled_for_another_time: otherNominal,
          dispatch_not_before_not_t: wrongNotBefore,
        },
        lag_ms: {
          measured_from: 'the nominal time T; JetStream timestamps (server clock, the same machine)',
          job_scheduled_commit: { ...latency(commitLag), ...span(commitLag) },
          job_scheduled_occurred_at: {
            what: "the envelope's occurredAt: the scheduler's clock when its handler decided",
            ...latency(occurredLag),
          },
          dispatch_published: { ...latency(dispatchLag), ...span(dispatchLag) },
          scheduled_to_dispatch: {
            what: 'per workflow, its dispatch message minus its JobScheduled commit (the lifecycle reaction: CreateJob with its queue, then the dispatch)',
            ...latency(scheduledToDispatch),
          },
          job_scheduled_per_s: perSecondOver(commitLag),
          dispatch_per_s: perSecondOver(dispatchLag),
        },
        scheduler_capacity: {
          rss_mib: {
            no_workflows: rssEmpty,
            with_n_before_t: rssN,
            peak_during_herd: round(Math.max(rssN, ...rssDuring), 1),
            after_herd: round(rssAfter, 1),
          },
          rss_kib_per_workflow: round(((rssN - rssEmpty) * 1024) / s.workflows, 2),
          refresh_ms: {
            what: 'TickScheduler.refresh in the benchmark process, same database: the read model query and the entries',
            no_workflows: median(refreshEmpty.runs_ms),
            with_n: refreshMedian,
            runs_with_n: refreshFull.runs_ms,
          },
          idle_cpu_percent: {
            what: `the scheduler process's CPU (user + system) over ${round(idleMs / 1000, 1)}s holding N workflows, none due: 5 passes a second over every entry`,
            value: idleCpuPercent,
          },
          herd: {
            what: 'from 500 ms before the first tick may be decided until every dispatch message is in (or the deadline)',
            wall_ms: herdWallMs,
            scheduler_cpu_ms: herdCpu,
            nats_server_cpu_ms: natsHerdCpu,
            jetstream_api_requests: apiCalls,
            jetstream_api_requests_per_workflow: round(apiCalls / s.workflows, 1),
          },
          extrapolated: {
            what: 'linear in N from this run: where refresh would take its whole 2 s interval, and where idle passes would take a whole core',
            workflows_at_refresh_2s:
              refreshMedian > 0 ? Math.round((s.workflows * 2000) / refreshMedian) : null,
            workflows_at_idle_cpu_100_percent:
              idleCpuPercent > 0 ? Math.round((s.workflows * 100) / idleCpuPercent) : null,
          },
        },
        role_log_problems: scheduler.problems(),
        ratios: {
          rss_with_n_vs_none: round(rssN / rssEmpty),
          refresh_with_n_vs_none: round(refreshMedian / Math.max(0.1, median(refreshEmpty.runs_ms)), 1),
        },
        target: {
          ...TARGET,
          judged,
          ...(judged
            ? {}
            : {
                note: `scale ${scale} runs ${s.workflows} workflows: the target is judged at full scale only`,
              }),
          job_scheduled_p99_ms: round(commitP99, 1),
          dispatch_p99_ms: round(dispatchP99, 1),
          met: judged
            ? complete && commitP99 < TARGET.p99_below_ms && dispatchP99 < TARGET.p99_below_ms
            : null,
        },
      };
    } finally {
      await scheduler?.stop();
      await projection.stop();
      await env.dispose();
    }
  },
};
