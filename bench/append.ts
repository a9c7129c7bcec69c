// Append throughput: commands through the real CommandHandler (load the actor's state, decide, append
// with the expected subject sequence) against a private nats-server, with many workflow actors driven
// in parallel. Each workflow is created, then fired `ticksPerWorkflow` times (FireTick, increasing
// nominal times, overlap 'allow'), one command at a time per workflow; `inFlight` workflows at once
// give that many commands in flight. The same run times 1 command in flight (latency-bound baseline)
// and plain `js.publish` of the very same commit bytes with a msgID (the floor any handler sits on).
import { randomUUID } from 'node:crypto';
import type { JetStreamClient } from '@nats-io/jetstream';
import { CommandHandler } from '../src/actors/command-handler.ts';
import { workflowDecider } from '../src/actors/workflow-decider.ts';
import type { EventEnvelope } from '../src/events/envelope.ts';
import { encodeCommit } from '../src/events/event-store.ts';
import { streamDefinitions, streamNames } from '../src/events/stream-definitions.ts';
import { eventSubject } from '../src/events/subjects.ts';
import type { WorkflowCommand } from '../src/events/workflow-events.ts';
import { createHeartbeat } from '../test/support/fixtures.ts';
import type { Benchmark, Progress, Scale } from './support/benchmark.ts';
import { type BenchEnvironment, openBenchEnvironment } from './support/environment.ts';
import { latency, medianOfRuns, perSecond, round, runPool } from './support/stats.ts';

interface AppendSizes {
  /** Workflows per timed run with `inFlight` commands in flight. */
  workflows: number;
  ticksPerWorkflow: number;
  inFlight: number;
  /** Workflows per timed run with 1 command in flight. */
  serialWorkflows: number;
  /** Workflows of the untimed warm-up (JIT, connections, stream files). */
  warmupWorkflows: number;
  runs: number;
}

const sizes: Record<Scale, AppendSizes> = {
  full: {
    workflows: 2000,
    ticksPerWorkflow: 10,
    inFlight: 256,
    serialWorkflows: 200,
    warmupWorkflows: 200,
    runs: 3,
  },
  small: {
    workflows: 400,
    ticksPerWorkflow: 5,
    inFlight: 256,
    serialWorkflows: 40,
    warmupWorkflows: 50,
    runs: 3,
  },
};

const RAW_STREAM = 'BENCH_RAW';
const RAW_PREFIX = 'bench.raw.';
const USERS = 100;

interface HandlerRun {
  commands: number;
  events: number;
  duration_ms: number;
  commands_per_s: number;
  events_per_s: number;
  latency_p50_ms: number;
  latency_p99_ms: number;
  latency_max_ms: number;
}

interface RawRun {
  messages: number;
  bytes: number;
  duration_ms: number;
  messages_per_s: number;
  latency_p50_ms: number;
  latency_p99_ms: number;
  latency_max_ms: number;
}

/** A commit as the handler wrote it, for the raw baseline to publish again. */
interface RawMessage {
  readonly subject: string;
  readonly data: Uint8Array;
}

async function runHandler(
  env: BenchEnvironment,
  workflows: number,
  ticks: number,
  inFlight: number,
): Promise<{ run: HandlerRun; commits: RawMessage[] }> {
  // A fresh handler per run: its snapshot cache starts empty, as in a process that just started.
  const handler = new CommandHandler(env.events);
  const users = Array.from({ length: USERS }, () => randomUUID());
  const plan = Array.from({ length: workflows }, (_, i) => ({
    userId: users[i % USERS]!,
    workflowId: randomUUID(),
  }));
  const latencies: number[] = [];
  const appended: { subject: string; events: readonly EventEnvelope[] }[] = [];
  let commands = 0;
  let events = 0;
  const send = async (userId: string, workflowId: string, command: WorkflowCommand) => {
    const t0 = performance.now();
    const result = await handler.handle(workflowDecider, {
      commandId: randomUUID(),
      userId,
      aggregateId: workflowId,
      command,
    });
    latencies.push(performance.now() - t0);
    commands++;
    events += result.events.length;
    if (result.events.length > 0) {
      appended.push({ subject: eventSubject(userId, 'workflow', workflowId), events: result.events });
    }
  };
  const base = Date.UTC(2026, 0, 1);
  const started = performance.now();
  await runPool(plan, inFlight, async ({ userId, workflowId }) => {
    await send(userId, workflowId, createHeartbeat(userId, workflowId));
    for (let t = 0; t < ticks; t++) {
      await send(userId, workflowId, {
        type: 'FireTick',
        data: {
          nominal_at: new Date(base + t * 60_000).toISOString(),
          job_id: randomUUID(),
          overlap: 'allow',
        },
      });
    }
  });
  const duration = performance.now() - started;
  // WorkflowCreated + WorkflowBuildCompleted, then one JobScheduled per tick.
  const expected = workflows * (2 + ticks);
  if (events !== expected) throw new Error(`expected ${expected} events, the handler appended ${events}`);
  const l = latency(latencies);
  return {
    run: {
      commands,
      events,
      duration_ms: round(duration, 1),
      commands_per_s: perSecond(commands, duration),
      events_per_s: perSecond(events, duration),
      latency_p50_ms: l.p50_ms,
      latency_p99_ms: l.p99_ms,
      latency_max_ms: l.max_ms,
    },
    commits: appended.map((c) => ({
      subject: RAW_PREFIX + c.subject.slice('cv.evt.'.length),
      data: encodeCommit(c.events),
    })),
  };
}

async function runRaw(
  js: JetStreamClient,
  messages: readonly RawMessage[],
  inFlight: number,
): Promise<RawRun> {
  const latencies: number[] = [];
  let bytes = 0;
  const started = performance.now();
  await runPool(messages, inFlight, async (m) => {
    const t0 = performance.now();
    await js.publish(m.subject, m.data, { msgID: randomUUID() });
    latencies.push(performance.now() - t0);
    bytes += m.data.length;
  });
  const duration = performance.now() - started;
  const l = latency(latencies);
  return {
    messages: messages.length,
    bytes,
    duration_ms: round(duration, 1),
    messages_per_s: perSecond(messages.length, duration),
    latency_p50_ms: l.p50_ms,
    latency_p99_ms: l.p99_ms,
    latency_max_ms: l.max_ms,
  };
}

async function measure(env: BenchEnvironment, s: AppendSizes, progress: Progress) {
  // The raw baseline's stream has CV_EVENTS' configuration (file storage, duplicate window, direct
  // get, replicas) under another name, so it neither shares nor pollutes the event log.
  const replicas = env.config.CV_NATS_REPLICAS ?? 1;
  const events = streamDefinitions({ logBufferMaxAgeHours: 1, replicas }).find(
    (d) => d.name === streamNames.events,
  )!;
  await env.nats.jsm.streams.add({ ...events, name: RAW_STREAM, subjects: [`${RAW_PREFIX}>`] });

  progress(`append: warm-up, ${s.warmupWorkflows} workflows`);
  const warm = await runHandler(env, s.warmupWorkflows, s.ticksPerWorkflow, s.inFlight);
  await runRaw(env.nats.js, warm.commits, s.inFlight);

  const handler: HandlerRun[] = [];
  const serial: HandlerRun[] = [];
  const raw: RawRun[] = [];
  const rawSerial: RawRun[] = [];
  // Interleaved, so that drift (stream growth, a noisy neighbour) touches every series alike.
  for (let r = 1; r <= s.runs; r++) {
    const parallel = await runHandler(env, s.workflows, s.ticksPerWorkflow, s.inFlight);
    handler.push(parallel.run);
    progress(
      `append: run ${r}/${s.runs} handler, ${s.inFlight} in flight: ${parallel.run.commands_per_s} commands/s`,
    );
    raw.push(await runRaw(env.nats.js, parallel.commits, s.inFlight));
    progress(
      `append: run ${r}/${s.runs} raw publish, ${s.inFlight} in flight: ${raw.at(-1)!.messages_per_s}/s`,
    );
    const one = await runHandler(env, s.serialWorkflows, s.ticksPerWorkflow, 1);
    serial.push(one.run);
    progress(`append: run ${r}/${s.runs} handler, 1 in flight: ${one.run.commands_per_s} commands/s`);
    rawSerial.push(await runRaw(env.nats.js, one.commits, 1));
  }
  return { handler, serial, raw, rawSerial };
}

export const appendBenchmark: Benchmark = {
  name: 'append',
  description: 'commands/s and events/s through CommandHandler, many workflow actors in parallel',
  async run(scale, progress) {
    const s = sizes[scale];
    const env = await openBenchEnvironment('append', progress);
    try {
      const { handler, serial, raw, rawSerial } = await measure(env, s, progress);
      const h = medianOfRuns(handler);
      const h1 = medianOfRuns(serial);
      const r = medianOfRuns(raw);
      const r1 = medianOfRuns(rawSerial);
      return {
        runs: s.runs,
        workload: {
          workflows: s.workflows,
          commands_per_workflow: 1 + s.ticksPerWorkflow,
          commands: 'CreateWorkflow (2 events), then FireTick x ticks (1 event each), overlap allow',
          users: USERS,
          warmup_workflows: s.warmupWorkflows,
        },
        handler: { in_flight: s.inFlight, median: h, runs: handler },
        handler_1_in_flight: { in_flight: 1, workflows: s.serialWorkflows, median: h1, runs: serial },
        raw_publish: {
          what: 'js.publish of the same commit bytes with a msgID, no headers, no expected sequence',
          in_flight: s.inFlight,
          median: r,
          runs: raw,
        },
        raw_publish_1_in_flight: { in_flight: 1, median: r1, runs: rawSerial },
        ratios: {
          /** How many raw publishes fit in the time of one handled command, at the same concurrency. */
          handler_cost_in_raw_publishes: round(r.messages_per_s / h.commands_per_s),
          handler_cost_in_raw_publishes_1_in_flight: round(r1.messages_per_s / h1.commands_per_s),
          /** What `in_flight` concurrent commands buy over one at a time. */
          handler_speedup_vs_1_in_flight: round(h.commands_per_s / h1.commands_per_s),
          raw_speedup_vs_1_in_flight: round(r.messages_per_s / r1.messages_per_s),
        },
      };
    } finally {
      await env.dispose();
    }
  },
};
