// SSE latency (issue 7): how late a container's output line reaches a live-tail client. A CONTAINER
// job (chronoverse/busybox:local) writes lines at a fixed rate, each stamped with its own write time;
// a client in this process is subscribed over a real socket to GET /workflows/{id}/jobs/{jobId}/events
// of the API process from before the first line. Processes, on a private nats-server and fresh
// databases: `chronoverse api` (test/support/system.ts), and `chronoverse scheduler`, `projector` and
// `executor` (bench/support/role-processes.ts), so the tail's event loop is the API's alone.
//
// The writer: busybox `date` has no %N, so the time comes from `adjtimex` (the kernel clock in µs,
// read-only, allowed to `nobody` without capabilities). Every 10 ms tick reads the clock once and
// writes rate/100 lines "<µs since the epoch> <i>", then sleeps (`usleep`) until the next tick's
// intended time (start + k × 10 ms, so it does not drift). The stamp is taken just before the tick's
// lines are written: the latency is from that stamp to the event's arrival at the client (same host,
// same clock), so it is at most a fraction of a millisecond high. How late each tick was against its
// intended time is reported as `writer_lag`.

import { eventSubject, logSubject } from '../src/events/subjects.ts';
import { connectNats, type Nats } from '../src/infra/nats-connection.ts';
import { waitUntil } from '../src/stack/process-control.ts';
import { ApiClient, type TestSystem } from '../test/support/system.ts';
import { startBenchSystem } from './support/api-system.ts';
import type { Benchmark, Progress, Scale } from './support/benchmark.ts';
import { readLogMessages } from './support/log-stream.ts';
import {
  type BenchRole,
  cpuMs,
  natsServerPid,
  readCommits,
  startBenchRole,
} from './support/role-processes.ts';
import { latency, percentile, perSecond, round, withTimeout } from './support/stats.ts';

interface Shape {
  rate: number;
  durationS: number;
}

const shapes: Record<Scale, Shape> = {
  full: { rate: 1000, durationS: 30 },
  small: { rate: 200, durationS: 5 },
};

const IMAGE = 'chronoverse/busybox:local';
const TICK_MS = 10;
/** Issue 7's target: p99 from write to SSE receipt under 250 ms. */
const TARGET = { p99_below_ms: 250 };
/** The container waits this long before its first line, so the client is subscribed first. */
const LEAD_S = 1;

/** The writer script (plain strings: `${…}` here is the shell's, not a template's). */
function writerCmd(s: Shape): string[] {
  const perTick = (s.rate * TICK_MS) / 1000;
  if (!Number.isInteger(perTick)) throw new Error(`rate ${s.rate} is not a whole number of lines per tick`);
  const ticks = (s.durationS * 1000) / TICK_MS;
  const script = [
    `sleep ${LEAD_S}`,
    `P=${perTick}; T=${ticks}; i=0; k=0`,
    // adjtimex prints "time.tv_sec: <s>" and "time.tv_usec: <µs>": t is µs since the epoch.
    // biome-ignore lint/suspicious/noTemplateCurlyInString: shell parameter expansions, not a template
    'now() { o=$(adjtimex); x=${o##*tv_sec:}; x=${x#"${x%%[0-9]*}"}; s=${x%%[!0-9]*}; x=${o##*tv_usec:}; x=${x#"${x%%[0-9]*}"}; u=${x%%[!0-9]*}; t=$((s*1000000+u)); }',
    'now; start=$t',
    'while [ $k -lt $T ]; do',
    '  now',
    '  j=0; while [ $j -lt $P ]; do i=$((i+1)); echo "$t $i"; j=$((j+1)); done',
    '  k=$((k+1)); d=$((start + k*10000 - t))',
    '  if [ $d -gt 0 ]; then usleep $d; fi',
    'done',
  ].join('\n');
  return ['sh', '-c', script];
}

interface Received {
  id: string | undefined;
  sequence: number;
  /** The container's counter and stamp (epoch ms), from the message. */
  i: number;
  writtenAt: number;
  /** When the executor read the line (the line's `timestamp`, ms). */
  readAt: number;
  /** Epoch ms (sub-millisecond) the chunk holding the event arrived. */
  receivedAt: number;
  message: string;
}

interface Tail {
  headersAt: number;
  lines: Received[];
  end: { status: string; receivedAt: number } | null;
  others: string[];
}

/** Reads the job's SSE stream until `end` (or abort): every `log` event with its arrival time. */
async function readTail(baseUrl: string, token: string, path: string, signal: AbortSignal): Promise<Tail> {
  // Epoch milliseconds with performance.now()'s resolution, anchored once.
  const offset = Date.now() - performance.now();
  const now = () => offset + performance.now();
  const res = await fetch(`${baseUrl}${path}`, {
    headers: { authorization: `Bearer ${token}`, accept: 'text/event-stream' },
    signal,
  });
  if (res.status !== 200) throw new Error(`GET ${path}: ${res.status} ${await res.text()}`);
  const tail: Tail = { headersAt: now(), lines: [], end: null, others: [] };
  const reader = res.body!.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = '';
  try {
    for (;;) {
      const { value, done } = await reader.read();
      const at = now();
      if (done) return tail;
      buffer += value;
      for (let cut = buffer.indexOf('\n\n'); cut >= 0; cut = buffer.indexOf('\n\n')) {
        const block = buffer.slice(0, cut);
        buffer = buffer.slice(cut + 2);
        let event = 'message';
        let id: string | undefined;
        const data: string[] = [];
        for (const line of block.split('\n')) {
          if (line.startsWith(':')) continue;
          const colon = line.indexOf(':');
          const field = colon < 0 ? line : line.slice(0, colon);
          const v = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '');
          if (field === 'event') event = v;
          else if (field === 'id') id = v;
          else if (field === 'data') data.push(v);
        }
        if (data.length === 0) continue;
        if (event === 'log') {
          const l = JSON.parse(data.join('\n')) as {
            message: string;
            sequence_num: number;
            timestamp: string;
          };
          const [stamp, counter] = l.message.split(' ');
          tail.lines.push({
            id,
            sequence: l.sequence_num,
            i: Number(counter),
            writtenAt: Number(stamp) / 1000,
            readAt: Date.parse(l.timestamp),
            receivedAt: at,
            message: l.message,
          });
        } else if (event === 'end') {
          tail.end = { status: (JSON.parse(data.join('\n')) as { status: string }).status, receivedAt: at };
          return tail;
        } else {
          tail.others.push(`${event}: ${data.join('\n').slice(0, 200)}`);
        }
      }
    }
  } finally {
    await reader.cancel().catch(() => {});
  }
}

async function measure(
  system: TestSystem,
  nats: Nats,
  s: Shape,
  progress: Progress,
  roles: Record<string, BenchRole>,
) {
  const client = new ApiClient(system.baseUrl);
  const userId = await client.signUp('sse.latency@example.com');
  const created = await client.post<{ id: string }>('/workflows', {
    name: 'sse latency',
    kind: 'CONTAINER',
    payload: { image: IMAGE, cmd: writerCmd(s), timeout: '5m' },
    interval: 10_080,
  });
  if (created.status !== 201)
    throw new Error(`POST /workflows: ${created.status} ${JSON.stringify(created.body)}`);
  const workflowId = created.body.id;
  await waitUntil(
    'the CONTAINER workflow built',
    async () =>
      (await client.get<{ build_status: string }>(`/workflows/${workflowId}`)).body.build_status ===
      'COMPLETED',
    60_000,
  );

  const pids: Record<string, number | null> = {
    api: system.process.child.pid ?? null,
    executor: roles.executor!.pid,
    projector: roles.projector!.pid,
    scheduler: roles.scheduler!.pid,
    nats_server: await natsServerPid(Number(new URL(system.nats.url).port)),
  };
  const cpuBefore: Record<string, number | null> = {};
  for (const [k, pid] of Object.entries(pids)) cpuBefore[k] = pid === null ? null : await cpuMs(pid);
  const t0 = Date.now();

  const run = await client.post<{ job_id: string }>(`/workflows/${workflowId}/jobs/schedule`);
  if (run.status !== 201) throw new Error(`run now: ${run.status} ${JSON.stringify(run.body)}`);
  const jobId = run.body.job_id;
  const path = `/workflows/${workflowId}/jobs/${jobId}/events`;
  progress(`sse_latency: job ${jobId}: ${s.rate} lines/s for ${s.durationS}s, tail ${path}`);
  const abort = new AbortController();
  let tail: Tail;
  try {
    tail = await withTimeout(
      readTail(system.baseUrl, client.token!, path, abort.signal),
      (LEAD_S + s.durationS) * 1000 + 120_000,
      'the SSE stream',
    );
  } finally {
    abort.abort();
  }
  const wall = Date.now() - t0;
  const cpu: Record<string, number | null> = {};
  for (const [k, pid] of Object.entries(pids)) {
    const before = cpuBefore[k];
    cpu[k] = pid === null || before == null ? null : round((((await cpuMs(pid)) - before) / wall) * 100, 1);
  }
  progress(`sse_latency: ${tail.lines.length} lines, end ${tail.end?.status ?? 'missing'}`);

  const written = s.rate * s.durationS;
  const perTick = (s.rate * TICK_MS) / 1000;
  const lines = tail.lines;
  const sequences = lines.map((l) => l.sequence);
  const inOrderOnce =
    lines.length === written &&
    sequences.every((q, k) => q === k + 1) &&
    lines.every((l) => l.i === l.sequence);
  const duplicates = lines.length - new Set(sequences).size;

  // Stages from the CV_LOGS messages: when JetStream stored the batch holding each line.
  const messages = await readLogMessages(nats, logSubject(userId, jobId));
  const storedAt = new Float64Array(written + 1);
  for (const m of messages)
    for (let q = m.firstSeq; q <= m.lastSeq && q <= written; q++) storedAt[q] = m.storedAt;
  const commits = await readCommits(nats, eventSubject(userId, 'job', jobId), () => true, false);
  const completedAt = commits.find((c) => c.types.includes('JobCompleted'))?.storedAt ?? null;

  const first = lines[0];
  const last = lines.at(-1);
  const writeToSse = lines.map((l) => l.receivedAt - l.writtenAt);
  const withStored = lines.filter((l) => l.sequence <= written && storedAt[l.sequence]! > 0);
  // The writer's start is not known to the client: the intended time of tick k is base + k × TICK_MS,
  // with the base of the most punctual tick, so lag is how much later than that tick a tick ran.
  const tickOf = (l: Received) => Math.floor((l.i - 1) / perTick);
  const base = Math.min(...lines.map((l) => l.writtenAt - tickOf(l) * TICK_MS));
  const intended = (l: Received) => base + tickOf(l) * TICK_MS;
  const p99 = round(percentile(writeToSse, 99), 3);
  const ok = inOrderOnce && tail.end?.status === 'COMPLETED';
  return {
    result: {
      job_id: jobId,
      lines: {
        written,
        received: lines.length,
        in_order_once: inOrderOnce,
        duplicates,
        missing: written - new Set(sequences).size,
        other_events: tail.others,
      },
      latency: {
        what: 'write stamp (adjtimex, µs) to the arrival at the client of the chunk holding the event (ms)',
        write_to_sse: {
          ...latency(writeToSse),
          mean_ms: round(writeToSse.reduce((a, b) => a + b, 0) / Math.max(1, writeToSse.length), 3),
        },
        stages: {
          what: 'write to the executor reading the line (the line timestamp, ms resolution), to JetStream storing its batch (CV_LOGS timestamp), to the client',
          write_to_executor_read: latency(lines.map((l) => l.readAt - l.writtenAt)),
          executor_read_to_jetstream: latency(withStored.map((l) => storedAt[l.sequence]! - l.readAt)),
          write_to_jetstream: latency(withStored.map((l) => storedAt[l.sequence]! - l.writtenAt)),
          jetstream_to_sse: latency(withStored.map((l) => l.receivedAt - storedAt[l.sequence]!)),
        },
        by_second: secondsOf(lines, s.durationS),
      },
      writer: {
        what: `ticks of ${TICK_MS} ms, ${perTick} lines each; lag = the tick's stamp minus its intended time (k × ${TICK_MS} ms after the most punctual tick's base)`,
        achieved_lines_per_s:
          first && last ? perSecond(lines.length - perTick, last.writtenAt - first.writtenAt) : 0,
        writer_lag: latency(lines.map((l) => l.writtenAt - intended(l))),
        subscribed_before_first_write_ms: first ? round(first.writtenAt - tail.headersAt, 1) : null,
      },
      cv_logs: {
        messages: messages.length,
        mean_lines_per_message: round(written / Math.max(1, messages.length), 1),
      },
      end: {
        status: tail.end?.status ?? null,
        after_job_completed_commit_ms:
          tail.end && completedAt !== null ? round(tail.end.receivedAt - completedAt, 1) : null,
        after_last_line_received_ms:
          tail.end && last ? round(tail.end.receivedAt - last.receivedAt, 1) : null,
        after_last_line_written_ms: tail.end && last ? round(tail.end.receivedAt - last.writtenAt, 1) : null,
        last_line_written_to_job_completed_commit_ms:
          last && completedAt !== null ? round(completedAt - last.writtenAt, 1) : null,
      },
      cpu_percent_of_one_core: { what: 'run-now to the end event', wall_ms: wall, ...cpu },
    },
    p99,
    ok,
  };
}

/** Latency per second of writing: shows a queue building up (growing) or a one-off stall. */
function secondsOf(lines: readonly Received[], durationS: number) {
  const first = lines[0]?.writtenAt ?? 0;
  const buckets: number[][] = Array.from({ length: durationS + 1 }, () => []);
  for (const l of lines)
    buckets[Math.min(durationS, Math.floor((l.writtenAt - first) / 1000))]!.push(l.receivedAt - l.writtenAt);
  return buckets
    .map((b, second) => ({
      second,
      lines: b.length,
      p50_ms: round(percentile(b, 50), 1),
      max_ms: round(percentile(b, 100), 1),
    }))
    .filter((b) => b.lines > 0);
}

export const sseLatencyBenchmark: Benchmark = {
  name: 'sse_latency',
  description: 'a container writing stamped lines at a fixed rate, tailed over SSE: write to receipt latency',
  async run(scale, progress) {
    const s = shapes[scale];
    const system = await startBenchSystem('sse_latency', progress, {}, 'api');
    const roles: Record<string, BenchRole> = {};
    let nats: Nats | undefined;
    try {
      roles.scheduler = await startBenchRole('scheduler', system.dbs.config);
      roles.projector = await startBenchRole('projector', system.dbs.config);
      roles.executor = await startBenchRole('executor', system.dbs.config, {
        CV_EXECUTOR_ID: 'bench-sse-latency',
      });
      nats = await connectNats(system.nats.url, 'chronoverse-bench-sse_latency');
      progress('sse_latency: chronoverse api, scheduler, projector and executor ready');
      const { result, p99, ok } = await measure(system, nats, s, progress, roles);
      return {
        runs: 1,
        workload: {
          image: IMAGE,
          rate_per_s: s.rate,
          duration_s: s.durationS,
          tick_ms: TICK_MS,
          cmd: writerCmd(s),
          note: `busybox date has no %N: each ${TICK_MS} ms tick stamps its lines with adjtimex (µs) and sleeps with usleep until the next tick's intended time; the first line comes ${LEAD_S}s after the container starts, so the client is subscribed first`,
        },
        system: {
          processes:
            'chronoverse api (test/support/system.ts, log level warn), chronoverse scheduler, projector, executor (default limits: 1 CPU) as separate processes, private nats-server',
          client:
            'fetch (undici) in the benchmark process, one connection, GET /workflows/{id}/jobs/{jobId}/events opened right after run-now, before the first line is written',
        },
        ...result,
        role_log_problems: Object.fromEntries(Object.values(roles).map((r) => [r.role, r.problems()])),
        target: {
          ...TARGET,
          p99_ms: p99,
          all_lines_in_order_once_and_end: ok,
          judged: scale === 'full',
          ...(scale === 'full'
            ? {}
            : {
                note: `scale ${scale}: ${s.rate} lines/s for ${s.durationS}s; the target is judged at full scale only`,
              }),
          met: scale === 'full' ? ok && p99 < TARGET.p99_below_ms : null,
        },
      };
    } finally {
      for (const r of Object.values(roles).reverse()) await r.stop();
      await nats?.nc.drain().catch(() => nats?.nc.close());
      await system.dispose();
    }
  },
};
