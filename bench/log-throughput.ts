// Log throughput (issue 7): one CONTAINER job (chronoverse/busybox:local) printing N lines of exactly
// 80 bytes (`seq -w 1 N | sed 's/$/ <filler>/'`), run by a real `chronoverse executor` process, with
// `chronoverse projector` (which holds the log processor) and `chronoverse scheduler` (job lifecycle
// and dispatch reactors) running, all on a private nats-server and fresh databases. Measured: lines/s
// from the container into JetStream (the CV_LOGS messages' timestamps, first to last), lines/s into
// ClickHouse (polling `count()` every 100 ms from the first row to the moment `count() FINAL` is N),
// the share of that time an INSERT into job_logs was running on the server (system.processes sampled
// every 20 ms: ClickHouse as the log processor sees it), that every line is there exactly once, and
// the executor's resident memory (VmRSS every 100 ms) against its idle RSS before the job. Baseline of
// the same run: the very same rows inserted with `clickhouse.insert` in batches of 20,000 from this
// process into a table of the same definition.
import { randomUUID } from 'node:crypto';
import { CommandHandler } from '../src/actors/command-handler.ts';
import { workflowDecider } from '../src/actors/workflow-decider.ts';
import { workflowStatus } from '../src/actors/workflow-machine.ts';
import { streamNames } from '../src/events/stream-definitions.ts';
import { eventSubject, logSubject } from '../src/events/subjects.ts';
import { quoteString } from '../src/infra/clickhouse-literal.ts';
import type { LogBatch } from '../src/logs/log-batch.ts';
import { LOG_PROCESSOR } from '../src/logs/log-processor.ts';
import { type JobLogRow, logRows } from '../src/logs/log-rows.ts';
import { waitUntil } from '../src/stack/process-control.ts';
import type { Benchmark, Progress, Scale } from './support/benchmark.ts';
import { type BenchEnvironment, openBenchEnvironment } from './support/environment.ts';
import { readLogMessages, stackDaemonPids, type TimedLogMessage } from './support/log-stream.ts';
import {
  type BenchRole,
  consumerBacklog,
  cpuMs,
  natsServerPid,
  readCommits,
  rssMib,
  sampleRss,
  startBenchRole,
} from './support/role-processes.ts';
import { latency, median, percentile, perSecond, round, withTimeout } from './support/stats.ts';

interface Shape {
  lines: number;
  /** The job's own timeout (payload `timeout`). */
  jobTimeout: string;
  /** How long the job may run, and then ClickHouse take to hold every line. */
  waitMs: number;
}

const shapes: Record<Scale, Shape> = {
  full: { lines: 1_000_000, jobTimeout: '10m', waitMs: 600_000 },
  small: { lines: 50_000, jobTimeout: '5m', waitMs: 180_000 },
};

const IMAGE = 'chronoverse/busybox:local';
const LINE_BYTES = 80;
const FILLER =
  'chronoverse log_throughput line, lorem ipsum dolor sit amet, consectetur adipiscing elit, sed do eiusmod';
/** Issue 7's target: at least 100,000 lines/s into ClickHouse. */
const TARGET = { clickhouse_lines_per_s_at_least: 100_000 };
const IDLE_MS = 2000;
const RSS_EVERY_MS = 100;
const COUNT_EVERY_MS = 100;
const PROCESSES_EVERY_MS = 20;
const TIMELINE_EVERY_MS = 500;
const BASELINE_BATCH = 20_000;
const USER_ID = randomUUID();

/** `seq -w` pads every number to the width of N, so with the filler every line is LINE_BYTES long. */
function containerCmd(lines: number): string[] {
  const filler = FILLER.slice(0, LINE_BYTES - String(lines).length - 1);
  return ['sh', '-c', `seq -w 1 ${lines} | sed 's/$/ ${filler}/'`];
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function rowsOf<T>(env: BenchEnvironment, query: string): Promise<T[]> {
  const rs = await env.clickhouse.query({ query, format: 'JSONEachRow' });
  return rs.json<T>();
}

interface IngestDone {
  /** The first poll that saw a row, and the last one before it that saw none (epoch ms, at its send). */
  firstRowAt: number;
  lastEmptyAt: number | null;
  /** The poll whose count() reached N and whose count() FINAL then said N. */
  doneAt: number;
  polls: number;
}

/** Polls the job's row count every COUNT_EVERY_MS until `count() FINAL` is `lines`. */
function pollClickhouse(env: BenchEnvironment, table: string, jobId: string, lines: number) {
  let stopped = false;
  let current = 0;
  const where = `job_id = ${quoteString(jobId)}`;
  const done = (async (): Promise<IngestDone | null> => {
    let firstRowAt: number | null = null;
    let lastEmptyAt: number | null = null;
    let polls = 0;
    while (!stopped) {
      const at = Date.now();
      polls++;
      const [row] = await rowsOf<{ n: string }>(env, `SELECT count() AS n FROM ${table} WHERE ${where}`);
      current = Number(row?.n ?? 0);
      if (current === 0) lastEmptyAt = at;
      else firstRowAt ??= at;
      if (current >= lines) {
        const [fin] = await rowsOf<{ n: string }>(
          env,
          `SELECT count() AS n FROM ${table} FINAL WHERE ${where}`,
        );
        if (Number(fin?.n ?? 0) === lines) return { firstRowAt: firstRowAt!, lastEmptyAt, doneAt: at, polls };
      }
      await sleep(Math.max(0, at + COUNT_EVERY_MS - Date.now()));
    }
    return null;
  })();
  return {
    done,
    rows: () => current,
    stop() {
      stopped = true;
    },
  };
}

/**
 * INSERTs into `table` running on the server, sampled from system.processes: per query, the longest
 * `elapsed` seen (a lower bound of its duration, short by up to one interval) and its written rows.
 */
function sampleInserts(env: BenchEnvironment, table: string) {
  let stopped = false;
  let samples = 0;
  let busySamples = 0;
  const queries = new Map<string, { elapsed_s: number; written_rows: number }>();
  const loop = (async () => {
    while (!stopped) {
      const at = Date.now();
      try {
        const rows = await rowsOf<{ query_id: string; elapsed: number; written_rows: string }>(
          env,
          `SELECT query_id, elapsed, written_rows FROM system.processes
           WHERE query LIKE ${quoteString(`INSERT INTO ${table} %`)}`,
        );
        samples++;
        if (rows.length) busySamples++;
        for (const r of rows) {
          const q = queries.get(r.query_id) ?? { elapsed_s: 0, written_rows: 0 };
          q.elapsed_s = Math.max(q.elapsed_s, Number(r.elapsed));
          q.written_rows = Math.max(q.written_rows, Number(r.written_rows));
          queries.set(r.query_id, q);
        }
      } catch {
        // a failed sample is skipped
      }
      await sleep(Math.max(0, at + PROCESSES_EVERY_MS - Date.now()));
    }
  })();
  return {
    async stop() {
      stopped = true;
      await loop;
      return { samples, busySamples, queries: [...queries.values()] };
    },
  };
}

interface TimelinePoint {
  t_ms: number;
  clickhouse_rows: number;
  cv_logs_messages: number;
  log_processor: { pending: number; ack_pending: number } | null;
  /** Parts of job_logs on the server: active, and all (merged-away ones linger a few minutes). */
  clickhouse_parts: { active: number; all: number } | null;
  executor_rss_mib: number | null;
}

async function partsOf(env: BenchEnvironment): Promise<{ active: number; all: number } | null> {
  try {
    const [row] = await rowsOf<{ active: string; all: string }>(
      env,
      `SELECT countIf(active) AS active, count() AS all FROM system.parts
       WHERE database = ${quoteString(env.config.CLICKHOUSE_DATABASE)} AND table = 'job_logs'`,
    );
    return { active: Number(row?.active ?? 0), all: Number(row?.all ?? 0) };
  } catch {
    return null;
  }
}

async function cpuOf(pids: Record<string, number | null>): Promise<Record<string, number | null>> {
  const out: Record<string, number | null> = {};
  for (const [name, pid] of Object.entries(pids))
    out[name] = pid === null ? null : await cpuMs(pid).catch(() => null);
  return out;
}

function cpuPercent(
  before: Record<string, number | null>,
  after: Record<string, number | null>,
  wallMs: number,
): Record<string, number | null> {
  const out: Record<string, number | null> = {};
  for (const [name, b] of Object.entries(before)) {
    const a = after[name];
    out[name] = a == null || b == null || wallMs <= 0 ? null : round(((a - b) / wallMs) * 100, 1);
  }
  return out;
}

/** The same rows the log processor wrote, inserted again from this process into a twin table. */
async function baselineInsert(env: BenchEnvironment, subject: string, messages: readonly TimedLogMessage[]) {
  const db = env.config.CLICKHOUSE_DATABASE;
  const table = `${db}.job_logs_baseline`;
  await env.clickhouse.command({ query: `DROP TABLE IF EXISTS ${table}` });
  await env.clickhouse.command({ query: `CREATE TABLE ${table} AS ${db}.job_logs` });
  const insertMs: number[] = [];
  let rows: JobLogRow[] = [];
  let total = 0;
  const started = performance.now();
  const insert = async () => {
    const t = performance.now();
    await env.clickhouse.insert({ table, values: rows, format: 'JSONEachRow' });
    insertMs.push(performance.now() - t);
    total += rows.length;
    rows = [];
  };
  for (const m of messages) {
    rows.push(...logRows(subject, JSON.parse(new TextDecoder().decode(m.data)) as LogBatch));
    if (rows.length >= BASELINE_BATCH) await insert();
  }
  if (rows.length) await insert();
  const wall = performance.now() - started;
  const [check] = await rowsOf<{ n: string }>(env, `SELECT count() AS n FROM ${table}`);
  await env.clickhouse.command({ query: `DROP TABLE IF EXISTS ${table}` });
  const inserting = insertMs.reduce((a, b) => a + b, 0);
  return {
    what: `clickhouse.insert (JSONEachRow) of the same rows in batches of ${BASELINE_BATCH}, one at a time, from the benchmark process into a table created AS job_logs; rows rebuilt from the CV_LOGS messages with logRows`,
    rows: total,
    stored: Number(check?.n ?? 0),
    batches: insertMs.length,
    insert_ms: round(inserting, 1),
    lines_per_s: perSecond(total, inserting),
    wall_ms_with_decoding: round(wall, 1),
    lines_per_s_with_decoding: perSecond(total, wall),
    batch_insert: latency(insertMs),
  };
}

async function measure(
  env: BenchEnvironment,
  s: Shape,
  progress: Progress,
  roles: Record<string, BenchRole>,
) {
  const commands = new CommandHandler(env.events);
  const workflowId = randomUUID();
  const cmd = containerCmd(s.lines);
  await commands.handle(workflowDecider, {
    commandId: randomUUID(),
    userId: USER_ID,
    aggregateId: workflowId,
    command: {
      type: 'CreateWorkflow',
      data: {
        workflow_id: workflowId,
        user_id: USER_ID,
        name: 'log throughput',
        kind: 'CONTAINER',
        payload: { image: IMAGE, cmd, timeout: s.jobTimeout },
        schedule: { type: 'interval', minutes: 10_080 },
        max_consecutive_job_failures_allowed: 100,
      },
    },
  });
  await waitUntil(
    'the CONTAINER workflow built',
    async () =>
      workflowStatus((await commands.load(workflowDecider, USER_ID, workflowId)).state).build === 'COMPLETED',
    30_000,
  );

  const executorPid = roles.executor!.pid;
  progress(`log_throughput: executor idle RSS for ${IDLE_MS / 1000}s`);
  const idleSampler = sampleRss(executorPid, RSS_EVERY_MS);
  await sleep(IDLE_MS);
  const idle = idleSampler.stop();

  const jobId = randomUUID();
  const subject = logSubject(USER_ID, jobId);
  const table = `${env.config.CLICKHOUSE_DATABASE}.job_logs`;
  let settle: (outcome: string) => void = () => {};
  const ended = new Promise<string>((r) => (settle = r));
  const sub = env.nats.nc.subscribe(eventSubject(USER_ID, 'job', jobId), {
    callback: (_err, msg) => {
      const types = msg?.headers?.get('Cv-Event-Types')?.split(',') ?? [];
      const end = types.find((t) => t === 'JobCompleted' || t === 'JobFailed' || t === 'JobCanceled');
      if (end) settle(end);
    },
  });
  await env.nats.nc.flush();

  const daemons = await stackDaemonPids(env.config.DOCKER_HOST);
  const pids: Record<string, number | null> = {
    executor: executorPid,
    projector: roles.projector!.pid,
    scheduler: roles.scheduler!.pid,
    nats_server: await natsServerPid(Number(new URL(env.config.NATS_URL).port)),
    clickhouse_server: daemons.clickhouse,
    dockerd: daemons.dockerd,
  };
  const rss = sampleRss(executorPid, RSS_EVERY_MS);
  const poll = pollClickhouse(env, table, jobId, s.lines);
  const inserts = sampleInserts(env, table);
  const timeline: TimelinePoint[] = [];
  const t0 = Date.now();
  const timelineTimer = setInterval(() => {
    const at = Date.now() - t0;
    void Promise.all([
      env.nats.jsm.streams.info(streamNames.logs).then(
        (i) => i.state.messages,
        () => -1,
      ),
      consumerBacklog(env.nats, streamNames.logs, LOG_PROCESSOR),
      partsOf(env),
      rssMib(executorPid).catch(() => null),
    ]).then(([messages, backlog, parts, mib]) =>
      timeline.push({
        t_ms: at,
        clickhouse_rows: poll.rows(),
        cv_logs_messages: messages,
        log_processor: backlog,
        clickhouse_parts: parts,
        executor_rss_mib: mib === null ? null : round(mib, 1),
      }),
    );
  }, TIMELINE_EVERY_MS);

  const cpuAtStart = await cpuOf(pids);
  const submittedAt = Date.now();
  progress(`log_throughput: RunNow, the container prints ${s.lines} lines of ${LINE_BYTES} bytes`);
  let outcome: string;
  let ingest: IngestDone | null;
  let cpuAtJobEnd: Record<string, number | null>;
  let jobEndedAt: number;
  try {
    await commands.handle(workflowDecider, {
      commandId: randomUUID(),
      userId: USER_ID,
      aggregateId: workflowId,
      command: { type: 'RunNow', data: { job_id: jobId } },
    });
    outcome = await withTimeout(ended, s.waitMs, `job ${jobId}`);
    jobEndedAt = Date.now();
    cpuAtJobEnd = await cpuOf(pids);
    progress(
      `log_throughput: job ${outcome} after ${round((jobEndedAt - submittedAt) / 1000, 1)}s; ${poll.rows()} rows in ClickHouse so far`,
    );
    if (outcome !== 'JobCompleted') throw new Error(`the job ended with ${outcome}`);
    ingest = await withTimeout(poll.done, s.waitMs, 'ClickHouse holding every line');
  } finally {
    poll.stop();
    clearInterval(timelineTimer);
    sub.unsubscribe();
  }
  const allStoredAt = Date.now();
  const cpuAtStored = await cpuOf(pids);
  const rssSamples = rss.stop();
  const insertSamples = await inserts.stop();
  if (!ingest) throw new Error('ClickHouse polling stopped before every line was stored');
  progress(
    `log_throughput: all ${s.lines} lines in ClickHouse ${round((allStoredAt - submittedAt) / 1000, 1)}s after RunNow`,
  );
  await sleep(1000);
  const rssAfter = await rssMib(executorPid).catch(() => null);

  // Exactly once: the stored rows, and the same per (attempt, sequence).
  const [check] = await rowsOf<Record<string, string>>(
    env,
    `SELECT count() AS final_rows, uniqExact(attempt, sequence) AS distinct_keys,
            uniqExact(message) AS distinct_messages, min(sequence) AS min_sequence,
            max(sequence) AS max_sequence, countIf(length(message) = ${LINE_BYTES}) AS full_length_lines,
            uniqExact(attempt) AS attempts
     FROM ${table} FINAL WHERE job_id = ${quoteString(jobId)}`,
  );
  const partsAtEnd = await partsOf(env);
  const [raw] = await rowsOf<{ n: string }>(
    env,
    `SELECT count() AS n FROM ${table} WHERE job_id = ${quoteString(jobId)}`,
  );
  const stored = Object.fromEntries(Object.entries(check ?? {}).map(([k, v]) => [k, Number(v)]));
  const exactlyOnce =
    stored.final_rows === s.lines &&
    stored.distinct_keys === s.lines &&
    stored.distinct_messages === s.lines &&
    stored.min_sequence === 1 &&
    stored.max_sequence === s.lines &&
    stored.full_length_lines === s.lines;

  const messages = await readLogMessages(env.nats, subject, true);
  const commits = await readCommits(env.nats, eventSubject(USER_ID, 'job', jobId), () => true, false);
  const at = (type: string) => commits.find((c) => c.types.includes(type))?.storedAt ?? null;
  const jobStarted = at('JobStarted');
  const jobCompleted = at('JobCompleted');
  const first = messages[0]!;
  const last = messages.at(-1)!;
  const linesInJetStream = messages.reduce((a, m) => a + m.lines, 0);
  const jsSpan = last.storedAt - first.storedAt;
  const readSpan = last.lastTs - first.firstTs;
  const chSpan = ingest.doneAt - ingest.firstRowAt;
  const clickhouseRate = perSecond(s.lines, chSpan);

  const busyMs = insertSamples.busySamples * PROCESSES_EVERY_MS;
  const insertSum = insertSamples.queries.reduce((a, q) => a + q.elapsed_s * 1000, 0);
  progress(
    `log_throughput: baseline, ${s.lines} rows with clickhouse.insert in batches of ${BASELINE_BATCH}`,
  );
  const baseline = await baselineInsert(env, subject, messages);
  const peak = Math.max(...rssSamples);
  const idleMedian = median(idle);

  return {
    outcome,
    job_id: jobId,
    into_jetstream: {
      what: 'CV_LOGS messages of the job (batches of the log shipper): JetStream timestamp of the first to the last',
      lines: linesInJetStream,
      messages: messages.length,
      mean_lines_per_message: round(linesInJetStream / messages.length, 1),
      mean_message_bytes: round(messages.reduce((a, m) => a + m.bytes, 0) / messages.length, 0),
      span_ms: round(jsSpan, 1),
      lines_per_s: perSecond(linesInJetStream, jsSpan),
      executor_read: {
        what: "the lines' own timestamps (when the executor read each from the container), first to last",
        span_ms: round(readSpan, 1),
        lines_per_s: perSecond(linesInJetStream, readSpan),
      },
    },
    into_clickhouse: {
      what: `count() polled every ${COUNT_EVERY_MS} ms: from the first poll that saw a row to the poll at which count() FINAL equalled N (resolution: one poll interval)`,
      span_ms: chSpan,
      lines_per_s: clickhouseRate,
      polls: ingest.polls,
      first_row_after_first_publish_ms: round(ingest.firstRowAt - first.storedAt, 1),
      all_stored_after_last_publish_ms: round(ingest.doneAt - last.storedAt, 1),
      end_to_end: {
        what: 'first line in JetStream to every line in ClickHouse',
        span_ms: round(ingest.doneAt - first.storedAt, 1),
        lines_per_s: perSecond(s.lines, ingest.doneAt - first.storedAt),
      },
    },
    clickhouse_insert_as_seen_by_log_processor: {
      what: `system.processes sampled every ${PROCESSES_EVERY_MS} ms for INSERT INTO ${table}: inserts seen, their summed longest elapsed (a lower bound), and the share of samples with one running; query_log is off on the stack's server, so no exact per-insert figure`,
      samples: insertSamples.samples,
      inserts_seen: insertSamples.queries.length,
      rows_per_insert_seen: {
        p50: percentile(
          insertSamples.queries.map((q) => q.written_rows),
          50,
        ),
        max: percentile(
          insertSamples.queries.map((q) => q.written_rows),
          100,
        ),
      },
      insert_elapsed_ms: latency(insertSamples.queries.map((q) => q.elapsed_s * 1000)),
      summed_insert_elapsed_ms: round(insertSum, 1),
      busy_share_of_run: round(insertSamples.busySamples / Math.max(1, insertSamples.samples), 3),
      busy_ms_from_samples: busyMs,
      lines_per_s_of_insert_time: insertSum > 0 ? perSecond(s.lines, insertSum) : null,
      job_logs_parts_at_end: partsAtEnd,
    },
    exactly_once: {
      ok: exactlyOnce,
      ...stored,
      rows_before_merge: Number(raw?.n ?? 0),
      duplicates_before_merge: Number(raw?.n ?? 0) - (stored.final_rows ?? 0),
    },
    job: {
      run_now_to_completed_ms: jobCompleted === null ? null : round(jobCompleted - submittedAt, 1),
      started_to_first_publish_ms: jobStarted === null ? null : round(first.storedAt - jobStarted, 1),
      last_publish_to_completed_ms: jobCompleted === null ? null : round(jobCompleted - last.storedAt, 1),
      run_now_to_all_in_clickhouse_ms: ingest.doneAt - submittedAt,
    },
    executor_memory: {
      what: `VmRSS of the executor process every ${RSS_EVERY_MS} ms: idle for ${IDLE_MS / 1000}s before the job, then from RunNow until every line was in ClickHouse`,
      idle_mib: round(idleMedian, 1),
      peak_mib: round(peak, 1),
      peak_over_idle_mib: round(peak - idleMedian, 1),
      after_mib: rssAfter === null ? null : round(rssAfter, 1),
      samples: rssSamples.length,
      output_mib: round((s.lines * (LINE_BYTES + 1)) / 2 ** 20, 1),
    },
    cpu_percent_of_one_core: {
      job: {
        what: 'RunNow to the JobCompleted commit',
        wall_ms: jobEndedAt - submittedAt,
        ...cpuPercent(cpuAtStart, cpuAtJobEnd, jobEndedAt - submittedAt),
      },
      job_end_to_all_stored: {
        what: 'the JobCompleted commit to every line in ClickHouse',
        wall_ms: allStoredAt - jobEndedAt,
        ...cpuPercent(cpuAtJobEnd, cpuAtStored, allStoredAt - jobEndedAt),
      },
    },
    timeline,
    baseline,
    ratios: {
      baseline_insert_over_pipeline_into_clickhouse: round(
        baseline.lines_per_s / Math.max(1, clickhouseRate),
      ),
      into_jetstream_over_into_clickhouse: round(
        perSecond(linesInJetStream, jsSpan) / Math.max(1, clickhouseRate),
      ),
    },
    clickhouseRate,
  };
}

export const logThroughputBenchmark: Benchmark = {
  name: 'log_throughput',
  description:
    'a CONTAINER job printing N 80-byte lines through executor, CV_LOGS and the log processor into ClickHouse',
  async run(scale, progress) {
    const s = shapes[scale];
    const env = await openBenchEnvironment('log_throughput', progress);
    const roles: Record<string, BenchRole> = {};
    try {
      roles.scheduler = await startBenchRole('scheduler', env.config);
      roles.projector = await startBenchRole('projector', env.config);
      roles.executor = await startBenchRole('executor', env.config, {
        CV_EXECUTOR_ID: 'bench-log-throughput',
      });
      progress('log_throughput: chronoverse scheduler, projector and executor ready');
      const { clickhouseRate, ...result } = await measure(env, s, progress, roles);
      return {
        runs: 1,
        workload: {
          image: IMAGE,
          cmd: containerCmd(s.lines),
          lines: s.lines,
          line_bytes: LINE_BYTES,
          note: 'seq -w pads each number to the width of N; sed appends a filler so every line is exactly 80 bytes (81 with its newline), each line distinct',
        },
        system: {
          processes:
            'chronoverse scheduler, chronoverse projector (log processor: batches of up to 20,000 lines), chronoverse executor (default limits: 1 CPU, 256 MiB), private nats-server; ClickHouse and the Docker engine (json-file logging) of the local stack',
        },
        ...result,
        role_log_problems: Object.fromEntries(Object.values(roles).map((r) => [r.role, r.problems()])),
        target: {
          ...TARGET,
          clickhouse_lines_per_s: clickhouseRate,
          judged: scale === 'full',
          ...(scale === 'full'
            ? {}
            : { note: `scale ${scale}: ${s.lines} lines; the target is judged at full scale only` }),
          met: scale === 'full' ? clickhouseRate >= TARGET.clickhouse_lines_per_s_at_least : null,
        },
      };
    } finally {
      for (const r of Object.values(roles).reverse()) await r.stop();
      await env.dispose();
    }
  },
};
