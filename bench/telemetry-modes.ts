// Telemetry modes (issue 15): append and heartbeat throughput with the OpenTelemetry SDK off, on at
// 100% sampling and on at 10%, in one command. Each mode runs `bench/run.ts --only
// append,heartbeat_throughput` as a child process (so the SDK, loaded by the `--import` bootstrap only
// when OTEL_* ask for it, is in the benchmark process and in every role it starts, exactly as in
// production), exporting over OTLP/HTTP protobuf to a receiver in this process that counts what
// arrives. The modes alternate round after round (off, 100%, 10%, off, …) so the drift of a shared
// machine falls on all of them alike; medians per mode and ratios against `off` are reported.
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Benchmark, Progress, Scale } from './support/benchmark.ts';
import { type ChildFigures, mediansByVariant, runAppendAndHeartbeat } from './support/child-bench.ts';
import { median, round } from './support/stats.ts';

type Mode = 'off' | 'on_100' | 'on_10';

const modeEnv: Record<Mode, Record<string, string>> = {
  off: {},
  on_100: { OTEL_TRACES_SAMPLER: 'parentbased_always_on' },
  on_10: { OTEL_TRACES_SAMPLER: 'parentbased_traceidratio', OTEL_TRACES_SAMPLER_ARG: '0.1' },
};

interface Sizes {
  rounds: number;
  /** The child benchmarks' scale (append's sizes). */
  childScale: Scale;
  heartbeatRate: number;
  heartbeatSeconds: number;
}

// The heartbeat rate is one this 2-core machine sustains with every role on it, so that the three
// modes are compared on CPU per job and latency at the same offered load rather than on saturation.
const sizes: Record<Scale, Sizes> = {
  full: { rounds: 3, childScale: 'full', heartbeatRate: 200, heartbeatSeconds: 30 },
  small: { rounds: 1, childScale: 'small', heartbeatRate: 50, heartbeatSeconds: 5 },
};

interface ModeRun extends ChildFigures {
  otlp_requests: number;
  otlp_bytes: number;
}

/** An OTLP/HTTP endpoint that accepts everything and counts it, without decoding (cheap for this process). */
async function startCountingReceiver() {
  let requests = 0;
  let bytes = 0;
  const server = createServer((req, res) => {
    req.on('data', (c: Buffer) => {
      bytes += c.length;
    });
    req.on('end', () => {
      requests++;
      res.writeHead(200, { 'content-type': 'application/x-protobuf' }).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    counts: () => ({ requests, bytes }),
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

export const telemetryModesBenchmark: Benchmark = {
  name: 'telemetry_modes',
  description:
    'append and heartbeat throughput with the OpenTelemetry SDK off, on at 100% and on at 10% sampling, alternating',
  onlyWhenNamed: true,
  async run(scale: Scale, progress: Progress) {
    const s = sizes[scale];
    const receiver = await startCountingReceiver();
    const runs: Record<Mode, ModeRun[]> = { off: [], on_100: [], on_10: [] };
    try {
      for (let r = 0; r < s.rounds; r++) {
        for (const mode of Object.keys(runs) as Mode[]) {
          progress(`telemetry_modes: round ${r + 1}/${s.rounds}, SDK ${mode}`);
          const before = receiver.counts();
          // Off is the default: no OTEL_* at all (and any the caller has set are removed).
          const otel =
            mode === 'off'
              ? { OTEL_SDK_DISABLED: 'true' }
              : {
                  OTEL_SDK_DISABLED: 'false',
                  OTEL_SERVICE_NAME: 'bench',
                  OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url,
                  OTEL_EXPORTER_OTLP_PROTOCOL: 'http/protobuf',
                  OTEL_TRACES_EXPORTER: 'otlp',
                  OTEL_METRICS_EXPORTER: 'otlp',
                  ...modeEnv[mode],
                };
          const figures = await runAppendAndHeartbeat(
            otel,
            s.childScale,
            { rate: s.heartbeatRate, seconds: s.heartbeatSeconds },
            progress,
          );
          const after = receiver.counts();
          const run: ModeRun = {
            ...figures,
            otlp_requests: after.requests - before.requests,
            otlp_bytes: after.bytes - before.bytes,
          };
          progress(`telemetry_modes: ${mode} ${JSON.stringify(run)}`);
          runs[mode].push(run);
        }
      }
    } finally {
      await receiver.close();
    }
    const medians = mediansByVariant(runs, median);
    const ratio = (mode: Mode, k: keyof ModeRun) => round(medians[mode][k] / medians.off[k], 3);
    const ratios = Object.fromEntries(
      (['on_100', 'on_10'] as const).map((mode) => [
        mode,
        {
          append_commands_per_s: ratio(mode, 'append_commands_per_s'),
          append_1_in_flight_commands_per_s: ratio(mode, 'append_1_in_flight_commands_per_s'),
          heartbeat_completions_per_s_in_window: ratio(mode, 'heartbeat_completions_per_s_in_window'),
          heartbeat_total_cpu_ms_per_job: ratio(mode, 'heartbeat_total_cpu_ms_per_job'),
          heartbeat_e2e_p99_ms: ratio(mode, 'heartbeat_e2e_p99_ms'),
        },
      ]),
    );
    return {
      what: `bench/run.ts --only append,heartbeat_throughput --scale ${s.childScale} per mode (heartbeat at ${s.heartbeatRate}/s for ${s.heartbeatSeconds} s), modes alternating, ${s.rounds} round(s); OTLP http/protobuf to a counting receiver`,
      modes: modeEnv,
      medians,
      ratios_vs_off: ratios,
      runs,
    };
  },
};
