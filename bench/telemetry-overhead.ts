// Telemetry overhead (issue 15): what the OpenTelemetry instrumentation costs, in CPU time of this
// process, where it matters: the wrappers every append, reaction and job run goes through, and a
// real append through the EventStore to a private nats-server. Run as it is, the SDK is off (the
// bench process loads no bootstrap): every wrapper is the API's no-op, which is the cost `npm start`
// pays. Run with `node --import tsx --import ./src/telemetry/bootstrap.ts bench/run.ts --only
// telemetry_overhead` and OTEL_* variables, the same figures are the SDK's cost when on (sampled or
// not, exported or not). CPU time (process.cpuUsage) rather than wall time: on a shared 2-core
// machine a throughput varies by tens of percent from run to run, far more than the effect measured.
import { randomUUID } from 'node:crypto';
import { headers as natsHeaders } from '@nats-io/transport-node';
import type { EventEnvelope } from '../src/events/envelope.ts';
import { eventSubject } from '../src/events/subjects.ts';
import { processMessage, tracedPublish } from '../src/telemetry/messaging.ts';
import { activeTraceContext, telemetryStarted, withSpan } from '../src/telemetry/tracing.ts';
import type { Benchmark, Progress, Scale } from './support/benchmark.ts';
import { openBenchEnvironment } from './support/environment.ts';
import { median, round } from './support/stats.ts';

const sizes: Record<Scale, { calls: number; appends: number; rounds: number }> = {
  full: { calls: 200_000, appends: 20_000, rounds: 5 },
  small: { calls: 20_000, appends: 2_000, rounds: 3 },
};

/** CPU nanoseconds (user + system) of this process per call of `fn`, over `n` sequential calls. */
async function cpuNsPerCall(n: number, fn: () => Promise<unknown>): Promise<number> {
  const start = process.cpuUsage();
  for (let i = 0; i < n; i++) await fn();
  const used = process.cpuUsage(start);
  return ((used.user + used.system) * 1000) / n;
}

function envelope(userId: string, i: number): EventEnvelope {
  return {
    id: randomUUID(),
    type: 'NotificationsRead',
    version: 1,
    aggregate: 'user',
    aggregateId: userId,
    userId,
    occurredAt: new Date().toISOString(),
    correlationId: `c${i}`,
    causationId: `c${i}`,
    data: { ids: [] },
  } as EventEnvelope;
}

export const telemetryOverheadBenchmark: Benchmark = {
  name: 'telemetry_overhead',
  description:
    'CPU cost of the OpenTelemetry wrappers and of a real append, with the SDK as this process has it',
  async run(scale: Scale, progress: Progress) {
    const s = sizes[scale];
    const headers = natsHeaders();
    headers.set('traceparent', '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01');
    const publish = { template: 'cv.evt.{user_id}.job.{job_id}', subject: 'cv.evt.u.job.j', messageId: 'm' };
    const consume = { ...publish, consumer: 'reactor_job_lifecycle' };
    const bare = async () => 1;
    const outgoing = natsHeaders();
    const wrappers: Record<string, () => Promise<unknown>> = {
      bare_async_call: bare,
      // The headers exist either way (an append always sends some): only the span's part is timed.
      traced_publish: () => tracedPublish(publish, outgoing, bare),
      process_message: () => processMessage(consume, headers, bare),
      with_span: () => withSpan('job HEARTBEAT', {}, bare),
      active_trace_context: async () => activeTraceContext(),
    };
    const ns: Record<string, number[]> = Object.fromEntries(Object.keys(wrappers).map((k) => [k, []]));
    for (let r = 0; r < s.rounds; r++) {
      for (const [name, fn] of Object.entries(wrappers)) ns[name]!.push(await cpuNsPerCall(s.calls, fn));
    }
    const wrapperNs = Object.fromEntries(Object.entries(ns).map(([k, v]) => [k, round(median(v), 0)]));
    progress(`telemetry_overhead: wrappers ${JSON.stringify(wrapperNs)} ns per call`);

    // A real append: EventStore.append (its PRODUCER span and header injection included), one at a
    // time per subject, 64 subjects in flight, to a private nats-server.
    const env = await openBenchEnvironment('telemetry_overhead', progress);
    try {
      const appendUs: number[] = [];
      for (let r = 0; r < s.rounds; r++) {
        const users = Array.from({ length: 64 }, () => randomUUID());
        const next = new Map(users.map((u) => [u, 0]));
        let i = 0;
        const start = process.cpuUsage();
        await Promise.all(
          users.map(async (u) => {
            while (i < s.appends) {
              const n = i++;
              const seq = next.get(u)!;
              const ack = await env.events.append(
                eventSubject(u, 'user', u),
                [envelope(u, n)],
                seq,
                randomUUID(),
              );
              next.set(u, ack.sequence);
            }
          }),
        );
        const used = process.cpuUsage(start);
        appendUs.push((used.user + used.system) / s.appends);
      }
      const perAppendUs = median(appendUs);
      const wrapperCostUs = (wrapperNs.traced_publish! - wrapperNs.bare_async_call!) / 1000;
      return {
        runs: s.rounds,
        sdk_started: telemetryStarted(),
        otel: Object.fromEntries(Object.entries(process.env).filter(([k]) => k.startsWith('OTEL_'))),
        wrapper_cpu_ns_per_call: wrapperNs,
        append: {
          appends: s.appends,
          in_flight: 64,
          cpu_us_per_append: round(perAppendUs, 1),
          runs_cpu_us_per_append: appendUs.map((x) => round(x, 1)),
          // The part of an append's CPU that is the PRODUCER span's wrapper (off: the API's no-op).
          traced_publish_share_percent: round((100 * wrapperCostUs) / perAppendUs, 2),
        },
      };
    } finally {
      await env.dispose();
    }
  },
};
