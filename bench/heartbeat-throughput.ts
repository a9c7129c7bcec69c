// Heartbeat throughput (issue 6): HEARTBEAT jobs through the whole system, as processes on a private
// nats-server and fresh databases: `chronoverse scheduler` (job lifecycle and dispatch reactors),
// two `chronoverse executor` (concurrency 32 each, one dispatch queue), `chronoverse projector`, and a
// local HTTP server in this process as the endpoint. RunNow is submitted from this process at a fixed
// rate (open model: command i at start + i/rate whatever the earlier ones are doing), spread over many
// workflows so no single workflow actor is the limit; then every job is awaited. Latency runs from
// a job's scheduled submit time to its JobCompleted commit (JetStream timestamp); the log's other
// commits split it into stages, and the consumers' backlogs sampled every second say where work piled
// up. At the end every job must be COMPLETED in the read model (`jobs`).
import { randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { CommandHandler } from '../src/actors/command-handler.ts';
import { workflowDecider } from '../src/actors/workflow-decider.ts';
import { streamNames } from '../src/events/stream-definitions.ts';
import { dispatchConsumerName } from '../src/executor/executor.ts';
import { postgresReadModels } from '../src/projections/postgres-read-models.ts';
import { followWorkflows } from '../src/reactors/workflow-follower.ts';
import type { Benchmark, Progress, Scale } from './support/benchmark.ts';
import { type BenchEnvironment, openBenchEnvironment } from './support/environment.ts';
import {
  type BenchRole,
  consumerBacklog,
  cpuByCommand,
  cpuMs,
  cpuSpentMs,
  jetStreamApiCalls,
  natsTraffic,
  readCommits,
  startBenchRole,
  trafficPer,
} from './support/role-processes.ts';
import { latency, median, perSecond, round, runPool } from './support/stats.ts';

interface Shape {
  rate: number;
  durationMs: number;
  workflows: number;
  concurrency: number;
  /** Timeline bucket. */
  bucketMs: number;
  /** How long after the last submit every job may take to end, and the read model to catch up. */
  drainMs: number;
}

const shapes: Record<Scale, Shape> = {
  full: { rate: 1000, durationMs: 60_000, workflows: 500, concurrency: 32, bucketMs: 5000, drainMs: 600_000 },
  small: { rate: 50, durationMs: 5000, workflows: 100, concurrency: 32, bucketMs: 1000, drainMs: 60_000 },
};

/** The shape, with the rate and duration overridable to find the sustainable rate of this machine. */
function shapeOf(scale: Scale): Shape {
  const s = { ...shapes[scale] };
  const rate = Number(process.env.CV_BENCH_HEARTBEAT_RATE);
  const seconds = Number(process.env.CV_BENCH_HEARTBEAT_SECONDS);
  if (rate > 0) s.rate = rate;
  if (seconds > 0) s.durationMs = seconds * 1000;
  return s;
}

const EXECUTORS = 2;

/**
 * CV_BENCH_HEARTBEAT_KILL=1: SIGKILL the scheduler a third into the window and the first executor two
 * thirds in, each started again 2 s later. Every accepted job must still COMPLETE once; an attempt the
 * killed executor held is failed `executor_lost` and retried (its endpoint may have been hit already).
 */
const KILLING = process.env.CV_BENCH_HEARTBEAT_KILL === '1';
/** The stack's stores, by command name: their CPU is part of a job's cost too. */
const STORES = ['postgres', 'clickhouse-serv'] as const;
const POOL = 'default';
const USER_ID = randomUUID();

interface Submit {
  jobId: string;
  workflowId: string;
  /** Epoch ms the open model scheduled it for. */
  intended: number;
  sentAt: number;
  ackedAt: number | null;
  error: string | null;
}

interface Sample {
  t_ms: number;
  submitted: number;
  ended: number;
  /** The scheduler's job reactors (lifecycle and dispatch on one consumer). */
  lifecycle_reactor: { pending: number; ack_pending: number } | null;
  dispatch_queue: { pending: number; ack_pending: number } | null;
  projection_lag_commits: number;
}

async function startHttp(): Promise<{ server: Server; url: string; hits: () => number }> {
  let hits = 0;
  const server = createServer((_req, res) => {
    hits++;
    res.writeHead(200, { 'content-type': 'text/plain' }).end('ok');
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    server,
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/ok`,
    hits: () => hits,
  };
}

async function projectionLag(env: BenchEnvironment): Promise<number> {
  const [info, row] = await Promise.all([
    env.nats.jsm.streams.info(streamNames.events),
    env.db
      .selectFrom('projection_checkpoints')
      .select('last_sequence')
      .where('projection', '=', postgresReadModels.name)
      .executeTakeFirst(),
  ]);
  return info.state.last_seq - Number(row?.last_sequence ?? 0);
}

/** Submits `total` RunNow at `rate` per second, open model; resolves once every command has answered. */
async function submitAll(
  commands: CommandHandler,
  workflowIds: readonly string[],
  total: number,
  rate: number,
  submits: Submit[],
  progress: Progress,
): Promise<number> {
  const start = Date.now() + 100;
  const pending: Promise<void>[] = [];
  let next = 0;
  while (next < total) {
    const now = Date.now();
    for (; next < total && start + (next * 1000) / rate <= now; next++) {
      const s: Submit = {
        jobId: randomUUID(),
        workflowId: workflowIds[next % workflowIds.length]!,
        intended: start + (next * 1000) / rate,
        sentAt: Date.now(),
        ackedAt: null,
        error: null,
      };
      submits.push(s);
      pending.push(
        commands
          .handle(workflowDecider, {
            commandId: randomUUID(),
            userId: USER_ID,
            aggregateId: s.workflowId,
            command: { type: 'RunNow', data: { job_id: s.jobId } },
          })
          .then(
            () => {
              s.ackedAt = Date.now();
            },
            (err: unknown) => {
              s.error = err instanceof Error ? err.message : String(err);
            },
          ),
      );
    }
    const wait = start + (next * 1000) / rate - Date.now();
    if (next < total) await new Promise((r) => setTimeout(r, Math.max(0, wait)));
  }
  // A command that never answers is reported, not waited for forever: the figures still come out.
  const unanswered = await Promise.race([
    Promise.all(pending).then(() => 0),
    new Promise<number>((r) => setTimeout(() => r(-1), UNANSWERED_AFTER_MS).unref()),
  ]);
  if (unanswered < 0) {
    const stuck = submits.filter((x) => x.ackedAt === null && x.error === null);
    for (const x of stuck) x.error = `no answer within ${UNANSWERED_AFTER_MS / 1000} s`;
    progress(
      `heartbeat_throughput: ${stuck.length} RunNow unanswered ${UNANSWERED_AFTER_MS / 1000} s after the last submit (workflows ${[...new Set(stuck.map((x) => x.workflowId))].length}, first sent ${stuck.length ? new Date(Math.min(...stuck.map((x) => x.sentAt))).toISOString() : '-'})`,
    );
  }
  return start;
}

const UNANSWERED_AFTER_MS = 60_000;

function summaryOf(values: readonly number[]) {
  return { ...latency(values), count: values.length };
}

async function measure(
  env: BenchEnvironment,
  s: Shape,
  progress: Progress,
  roles: BenchRole[],
  restart: (index: number) => Promise<BenchRole>,
) {
  const http = await startHttp();
  let follower: { stop(): Promise<void> } | undefined;
  try {
    // Every optimistic-concurrency conflict a run-now met (the workflow's outcomes are written by the
    // scheduler meanwhile): a retry each.
    let runNowConflicts = 0;
    const commands = new CommandHandler(env.events, { onConflict: () => runNowConflicts++ });
    // As the API role does: its workflow snapshots follow the log as commits are stored.
    if (process.env.CV_BENCH_SUBMITTER_FOLLOWS !== '0')
      follower = followWorkflows(env.nats, commands, env.log);
    const workflowIds = Array.from({ length: s.workflows }, () => randomUUID());
    await runPool(workflowIds, 64, async (id) => {
      await commands.handle(workflowDecider, {
        commandId: randomUUID(),
        userId: USER_ID,
        aggregateId: id,
        command: {
          type: 'CreateWorkflow',
          data: {
            workflow_id: id,
            user_id: USER_ID,
            name: 'heartbeat throughput',
            kind: 'HEARTBEAT',
            payload: { endpoint: http.url },
            // Never due while the benchmark runs: every job here is a run-now.
            schedule: { type: 'interval', minutes: 10_080 },
            max_consecutive_job_failures_allowed: 100,
          },
        },
      });
    });
    progress(`heartbeat_throughput: ${s.workflows} workflows created; endpoint ${http.url}`);

    // Jobs that have ended, as the read model says: polled, not followed live. A subscription to the
    // job subjects cost nats-server and this process three deliveries per job, all of it load on the
    // very machine being measured; the per-job times below come from the stored commits instead.
    let ended = 0;
    const countEnded = async () => {
      const row = await env.db
        .selectFrom('jobs')
        .select((eb) => eb.fn.countAll().as('n'))
        .where('user_id', '=', USER_ID)
        .where('status', 'in', ['COMPLETED', 'FAILED', 'CANCELED'])
        .executeTakeFirstOrThrow();
      ended = Number(row.n);
      return ended;
    };

    const total = Math.round((s.rate * s.durationMs) / 1000);
    const submits: Submit[] = [];
    const samples: Sample[] = [];
    const t0 = Date.now();
    const sampler = setInterval(() => {
      const at = Date.now() - t0;
      void Promise.all([
        countEnded(),
        consumerBacklog(env.nats, streamNames.events, 'reactor_job_lifecycle'),
        consumerBacklog(env.nats, streamNames.dispatch, dispatchConsumerName(POOL)),
        projectionLag(env).catch(() => -1),
      ]).then(([, lifecycle, queue, lag]) =>
        samples.push({
          t_ms: at,
          submitted: submits.length,
          ended,
          lifecycle_reactor: lifecycle,
          dispatch_queue: queue,
          projection_lag_commits: lag,
        }),
      );
    }, 1000);
    const natsPids = env.natsPids();
    const cpuBefore = await Promise.all(roles.map((r) => cpuMs(r.pid)));
    const natsCpuOf = async () => (await Promise.all(natsPids.map(cpuMs))).reduce((a, b) => a + b, 0);
    const natsCpuBefore = await natsCpuOf();
    const storesCpuBefore = await Promise.all(STORES.map((n) => cpuByCommand([n])));
    const apiBefore = await jetStreamApiCalls(env.nats);
    const trafficBefore = await natsTraffic(env.natsMonitorUrl);
    const benchCpuBefore = process.cpuUsage();

    const kills: { role: string; at_ms: number; pid_killed: number; restarted_after_ms: number }[] = [];
    const killTimers: NodeJS.Timeout[] = [];
    const killing: Promise<void>[] = [];
    if (KILLING) {
      const killAt = (role: string, atMs: number) =>
        killTimers.push(
          setTimeout(() => {
            killing.push(
              (async () => {
                const i = roles.findIndex((r) => r.role === role);
                const victim = roles[i]!;
                const at = Date.now() - t0;
                victim.process.child.kill('SIGKILL');
                await victim.process.exited;
                await new Promise((r) => setTimeout(r, 2000));
                roles[i] = await restart(i);
                kills.push({
                  role,
                  at_ms: at,
                  pid_killed: victim.pid,
                  restarted_after_ms: Date.now() - t0 - at,
                });
                progress(`heartbeat_throughput: ${role} SIGKILLed at ${at} ms, started again`);
              })(),
            );
          }, atMs),
        );
      killAt('scheduler', s.durationMs / 3);
      killAt('executor', (2 * s.durationMs) / 3);
    }
    progress(`heartbeat_throughput: submitting ${total} RunNow at ${s.rate}/s for ${s.durationMs / 1000}s`);
    const start = await submitAll(commands, workflowIds, total, s.rate, submits, progress);
    const submittedBy = Date.now();
    const accepted = submits.filter((x) => x.ackedAt !== null);
    progress(
      `heartbeat_throughput: ${accepted.length}/${total} accepted by ${round((submittedBy - start) / 1000, 1)}s; ${ended} ended so far`,
    );
    for (const t of killTimers) clearTimeout(t);
    await Promise.all(killing);
    const drainDeadline = Date.now() + s.drainMs;
    let lastReport = Date.now();
    while ((await countEnded()) < accepted.length && Date.now() < drainDeadline) {
      await new Promise((r) => setTimeout(r, 500));
      if (Date.now() - lastReport > 10_000) {
        lastReport = Date.now();
        progress(`heartbeat_throughput: ${ended}/${accepted.length} ended`);
      }
    }
    const drainedAt = Date.now();
    const cpuAfter = await Promise.all(roles.map((r) => cpuMs(r.pid)));
    // A process started again after a kill is measured from its start; the killed one's CPU is lost.
    for (const k of kills) {
      const i = roles.findIndex((r) => r.role === k.role);
      if (i >= 0) cpuBefore[i] = 0;
    }
    const natsCpu = natsPids.length > 0 ? (await natsCpuOf()) - natsCpuBefore : null;
    const storesCpu = await Promise.all(
      STORES.map(async (n, i) => cpuSpentMs(storesCpuBefore[i]!, await cpuByCommand([n]))),
    );
    const apiAfter = await jetStreamApiCalls(env.nats);
    const trafficAfter = await natsTraffic(env.natsMonitorUrl);
    const benchCpu = process.cpuUsage(benchCpuBefore);
    clearInterval(sampler);
    progress(
      `heartbeat_throughput: ${ended}/${accepted.length} ended ${round((drainedAt - submittedBy) / 1000, 1)}s after the last submit`,
    );

    // The read model: wait for the projector to reach the log's end, then count by status.
    const readModelDeadline = Date.now() + s.drainMs;
    let lag = await projectionLag(env);
    while (lag > 0 && Date.now() < readModelDeadline) {
      await new Promise((r) => setTimeout(r, 250));
      lag = await projectionLag(env);
    }
    const projectedAfterMs = Date.now() - drainedAt;
    // Every job's end recorded on its workflow: none left active there once all have ended. Records
    // trail the ends (a plain workflow's gather for up to a second, and the scheduler's backlog).
    const activeOnWorkflows = async () => {
      let active = 0;
      for (const id of workflowIds) {
        active += (await commands.load(workflowDecider, USER_ID, id)).state.context.active_job_ids.length;
      }
      return active;
    };
    let jobsActiveOnWorkflows = await activeOnWorkflows();
    while (jobsActiveOnWorkflows > 0 && Date.now() < readModelDeadline) {
      await new Promise((r) => setTimeout(r, 500));
      jobsActiveOnWorkflows = await activeOnWorkflows();
    }
    const recordedAfterMs = Date.now() - drainedAt;
    const byStatus = Object.fromEntries(
      (
        await env.db
          .selectFrom('jobs')
          .select(['status', (eb) => eb.fn.countAll().as('n')])
          .where('user_id', '=', USER_ID)
          .groupBy('status')
          .execute()
      ).map((r) => [r.status, Number(r.n)]),
    ) as Record<string, number>;

    const failures = await env.db
      .selectFrom('jobs')
      .select(['failure_kind', 'failure_reason', (eb) => eb.fn.countAll().as('n')])
      .where('user_id', '=', USER_ID)
      .where('status', '=', 'FAILED')
      .groupBy(['failure_kind', 'failure_reason'])
      .execute();

    // The log: each job's commits with their JetStream timestamps.
    const scheduledAt = new Map<string, number>();
    for (const c of await readCommits(env.nats, `cv.evt.${USER_ID}.workflow.*`, (t) =>
      t.includes('JobScheduled'),
    )) {
      for (const e of c.events) {
        if (e.type === 'JobScheduled') scheduledAt.set((e.data as { job_id: string }).job_id, c.storedAt);
      }
    }
    const jobAt = new Map<string, Record<string, number>>();
    /** Per job: how many JobStarted and JobCompleted events its subject holds. */
    const jobCounts = new Map<string, { started: number; completed: number }>();
    for (const c of await readCommits(env.nats, `cv.evt.${USER_ID}.job.*`, () => true, false)) {
      const id = c.subject.slice(c.subject.lastIndexOf('.') + 1);
      const m = jobAt.get(id) ?? {};
      for (const t of c.types) m[t] ??= c.storedAt;
      jobAt.set(id, m);
      const n = jobCounts.get(id) ?? { started: 0, completed: 0 };
      n.started += c.types.filter((t) => t === 'JobStarted').length;
      n.completed += c.types.filter((t) => t === 'JobCompleted').length;
      jobCounts.set(id, n);
    }
    const countsOf = [...jobCounts.values()];
    let completed = 0;
    let failed = 0;
    let lastCompletedAt = start;
    const e2e: number[] = [];
    const stages: Record<string, number[]> = {
      send_lag: [],
      run_now: [],
      scheduled_to_created: [],
      created_to_queued: [],
      queued_to_started: [],
      started_to_completed: [],
    };
    const bucketOf = (t: number) => Math.floor((t - start) / s.bucketMs);
    const buckets = new Map<
      number,
      {
        submitted: number;
        completed: number;
        e2e: number[];
        queued_to_started: number[];
        scheduled_to_queued: number[];
      }
    >();
    const bucket = (k: number) => {
      let b = buckets.get(k);
      if (!b) {
        b = { submitted: 0, completed: 0, e2e: [], queued_to_started: [], scheduled_to_queued: [] };
        buckets.set(k, b);
      }
      return b;
    };
    for (const x of accepted) {
      const m = jobAt.get(x.jobId) ?? {};
      const sched = scheduledAt.get(x.jobId);
      const b = bucket(bucketOf(x.intended));
      b.submitted++;
      if (m.JobFailed !== undefined) failed++;
      const step = (name: string, from: number | undefined, to: number | undefined) => {
        if (from !== undefined && to !== undefined) stages[name]!.push(to - from);
      };
      step('send_lag', x.intended, x.sentAt);
      step('run_now', x.sentAt, sched);
      step('scheduled_to_created', sched, m.JobCreated);
      step('created_to_queued', m.JobCreated, m.JobQueued);
      step('queued_to_started', m.JobQueued, m.JobStarted);
      step('started_to_completed', m.JobStarted, m.JobCompleted);
      if (m.JobQueued !== undefined && sched !== undefined) b.scheduled_to_queued.push(m.JobQueued - sched);
      if (m.JobQueued !== undefined && m.JobStarted !== undefined)
        b.queued_to_started.push(m.JobStarted - m.JobQueued);
      if (m.JobCompleted === undefined) continue;
      completed++;
      lastCompletedAt = Math.max(lastCompletedAt, m.JobCompleted);
      e2e.push(m.JobCompleted - x.intended);
      b.e2e.push(m.JobCompleted - x.intended);
      bucket(bucketOf(m.JobCompleted)).completed++;
    }
    const windowEnd = start + s.durationMs;
    let completedInWindow = 0;
    for (const m of jobAt.values())
      if (m.JobCompleted !== undefined && m.JobCompleted <= windowEnd) completedInWindow++;
    const timeline = [...buckets.entries()]
      .sort(([a], [b]) => a - b)
      .map(([k, b]) => {
        const at = k * s.bucketMs;
        // The backlog sample nearest the bucket's end (samples are relative to t0, just before start).
        const sample = samples.reduce<Sample | undefined>(
          (best, x) =>
            best === undefined ||
            Math.abs(x.t_ms - (at + s.bucketMs + start - t0)) <
              Math.abs(best.t_ms - (at + s.bucketMs + start - t0))
              ? x
              : best,
          undefined,
        );
        return {
          from_s: at / 1000,
          submitted: b.submitted,
          completed: b.completed,
          // null: nothing submitted in this bucket (the drain after the window).
          e2e_p50_ms: b.e2e.length ? round(median(b.e2e), 0) : null,
          scheduled_to_queued_p50_ms: b.scheduled_to_queued.length
            ? round(median(b.scheduled_to_queued), 0)
            : null,
          queued_to_started_p50_ms: b.queued_to_started.length ? round(median(b.queued_to_started), 0) : null,
          backlog_at_end: sample
            ? {
                lifecycle_reactor: sample.lifecycle_reactor,
                dispatch_queue: sample.dispatch_queue,
                projection_lag_commits: sample.projection_lag_commits,
              }
            : null,
        };
      });
    const runMs = drainedAt - start;
    const peak = (f: (x: Sample) => number) => samples.reduce((a, x) => Math.max(a, f(x)), 0);
    const backlog = (b: { pending: number; ack_pending: number } | null) =>
      b ? b.pending + b.ack_pending : 0;
    const cpuPercent = Object.fromEntries(
      roles.map((r, i) => [
        `${r.role}${r.role === 'executor' ? `_${i - 1}` : ''}`,
        round(((cpuAfter[i]! - cpuBefore[i]!) / runMs) * 100, 1),
      ]),
    );
    cpuPercent.benchmark_process = round(((benchCpu.user + benchCpu.system) / 1000 / runMs) * 100, 1);
    if (natsCpu !== null) cpuPercent.nats_server = round((natsCpu / runMs) * 100, 1);
    // Shared with the rest of the machine (other benchmarks' databases are idle meanwhile).
    STORES.forEach((n, i) => {
      cpuPercent[n === 'postgres' ? 'postgresql' : 'clickhouse'] = round((storesCpu[i]! / runMs) * 100, 1);
    });
    const perJob = Object.values(cpuPercent).reduce((a, v) => a + v, 0);
    cpuPercent.total_ms_per_job = round((perJob / 100) * (runMs / Math.max(1, completed)), 2);
    const allCompleted =
      completed === total && (byStatus.COMPLETED ?? 0) === total && Object.keys(byStatus).length === 1;
    return {
      runs: 1,
      workload: {
        rate_per_s: s.rate,
        duration_ms: s.durationMs,
        workflows: s.workflows,
        jobs_per_workflow: round(total / s.workflows, 1),
        endpoint: 'node:http server in the benchmark process, 200 "ok"',
        model:
          'open: RunNow i sent at start + i/rate whatever the earlier ones are doing; latency from that scheduled time',
      },
      system: {
        processes: `chronoverse scheduler, ${EXECUTORS} x chronoverse executor (CV_EXECUTOR_CONCURRENCY ${s.concurrency}, one pool), chronoverse projector; private nats-server`,
        submitter: 'CommandHandler in the benchmark process (RunNow on the workflow actor)',
      },
      submitted: total,
      accepted: accepted.length,
      rejected: submits.filter((x) => x.error !== null).length,
      rejections: [...new Set(submits.flatMap((x) => (x.error ? [x.error] : [])))].slice(0, 5),
      completed,
      failed,
      not_ended: accepted.length - completed - failed,
      endpoint_hits: http.hits(),
      once: {
        what: 'jobs whose subject holds more than one JobCompleted (must be 0), and jobs started more than once (an attempt retried after its executor was killed)',
        jobs_completed_twice: countsOf.filter((n) => n.completed > 1).length,
        jobs_started_more_than_once: countsOf.filter((n) => n.started > 1).length,
      },
      kills,
      achieved: {
        submitted_per_s: perSecond(accepted.length, Math.max(1, submittedBy - start)),
        completions_per_s_in_window: perSecond(completedInWindow, s.durationMs),
        completions_per_s_overall: perSecond(completed, Math.max(1, lastCompletedAt - start)),
        drain_after_last_submit_ms: drainedAt - submittedBy,
      },
      latency: {
        end_to_end: { what: 'scheduled submit time to the JobCompleted commit', ...summaryOf(e2e) },
        stages: {
          what: "per job, from the JetStream timestamps of its commits (send_lag and run_now from this process's clock)",
          ...Object.fromEntries(Object.entries(stages).map(([k, v]) => [k, summaryOf(v)])),
        },
      },
      backlog_peaks: {
        lifecycle_reactor: peak((x) => backlog(x.lifecycle_reactor)),
        dispatch_queue: peak((x) => backlog(x.dispatch_queue)),
        projection_lag_commits: peak((x) => x.projection_lag_commits),
      },
      cpu_percent_of_one_core: {
        what: `user + system CPU of each process from the first submit until every job ended (${round(runMs / 1000, 1)}s; postgresql and clickhouse: every process of that name, shared with nothing else busy meanwhile); total_ms_per_job: all of them together, CPU milliseconds per completed job`,
        ...cpuPercent,
      },
      run_now_conflicts: {
        what: 'optimistic-concurrency conflicts the submitter met (each one a reload and a retry of a RunNow)',
        total: runNowConflicts,
        per_job: round(runNowConflicts / Math.max(1, total), 3),
      },
      jetstream_api: {
        what: 'JetStream API requests (consumer create/delete, direct get, stream info…) over the same span: every cache miss of a CommandHandler reads its subject through a new ordered consumer',
        requests: apiAfter.total - apiBefore.total,
        errors: apiAfter.errors - apiBefore.errors,
        per_job: round((apiAfter.total - apiBefore.total) / Math.max(1, accepted.length), 1),
        per_s: perSecond(apiAfter.total - apiBefore.total, runMs),
      },
      nats_traffic_per_job: {
        what: 'messages and bytes per completed job that each connection sent to nats-server (in) and received from it (out), by connection name, over the same span (the benchmark process subscribes to every job commit to time it)',
        ...trafficPer(trafficBefore, trafficAfter, Math.max(1, ended)),
      },
      role_log_problems: Object.fromEntries(roles.map((r, i) => [`${r.role}_${i}`, r.problems()])),
      timeline,
      read_model: {
        jobs_by_status: byStatus,
        failures: failures.map((f) => ({
          kind: f.failure_kind,
          reason: f.failure_reason,
          jobs: Number(f.n),
        })),
        projection_caught_up_after_ms: projectedAfterMs,
        projection_lag_left_commits: lag,
        all_completed: allCompleted,
        // From the workflows' actors, not the read model: their ends recorded (must be 0).
        jobs_still_active_on_their_workflow: jobsActiveOnWorkflows,
        ends_recorded_on_workflows_after_ms: recordedAfterMs,
      },
    };
  } finally {
    await follower?.stop();
    http.server.closeAllConnections();
    await new Promise((r) => http.server.close(r));
  }
}

export const heartbeatThroughputBenchmark: Benchmark = {
  name: 'heartbeat_throughput',
  description: 'HEARTBEAT jobs through scheduler, two executors and projector at a fixed RunNow rate',
  async run(scale, progress) {
    const s = shapeOf(scale);
    const env = await openBenchEnvironment('heartbeat_throughput', progress);
    const roles: BenchRole[] = [];
    /** Processes started again after a kill (each also put in its role's place in `roles`). */
    const replaced: BenchRole[] = [];
    try {
      const starters: (() => Promise<BenchRole>)[] = [
        () => startBenchRole('scheduler', env.config),
        ...Array.from(
          { length: EXECUTORS },
          (_, k) => () =>
            startBenchRole('executor', env.config, {
              CV_EXECUTOR_ID: `bench-heartbeat-${k + 1}`,
              CV_EXECUTOR_CONCURRENCY: String(s.concurrency),
              CV_EXECUTOR_POOL: POOL,
            }),
        ),
        () => startBenchRole('projector', env.config),
      ];
      for (const start of starters) roles.push(await start());
      progress(`heartbeat_throughput: ${roles.map((r) => r.role).join(', ')} ready`);
      const result = await measure(env, s, progress, roles, async (i) => {
        const started = await starters[i]!();
        replaced.push(started);
        return started;
      });
      if (result.read_model.jobs_still_active_on_their_workflow > 0) {
        progress(
          `heartbeat_throughput: ${result.read_model.jobs_still_active_on_their_workflow} ended jobs still active on their workflow`,
        );
      }
      if (!result.read_model.all_completed) {
        progress(
          `heartbeat_throughput: not every job COMPLETED in the read model: ${JSON.stringify(result.read_model.jobs_by_status)}`,
        );
      }
      return result;
    } finally {
      for (const r of new Set([...roles.reverse(), ...replaced])) await r.stop();
      await env.dispose();
    }
  },
};
