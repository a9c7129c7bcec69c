// Runs `bench/run.ts --only append,heartbeat_throughput` as a child process with an environment of its
// own (the OpenTelemetry SDK on or off, one nats-server or three) and reads the figures that compare
// such variants. The variant is the child's whole environment, so it holds in the benchmark process
// and in every role process the child starts, as it would in production.
import { spawn } from 'node:child_process';
import type { Progress, Scale } from './benchmark.ts';

/** The parts of a child's report (bench/append.ts, bench/heartbeat-throughput.ts) read here. */
interface ChildReport {
  results: {
    append: { error?: string; handler: Median; handler_1_in_flight: Median };
    heartbeat_throughput: {
      error?: string;
      completed: number;
      submitted: number;
      rejected: number;
      achieved: { completions_per_s_in_window: number };
      cpu_percent_of_one_core: { total_ms_per_job: number };
      latency: { end_to_end: { p50_ms: number; p99_ms: number } };
    };
  };
}
type Median = { median: { commands_per_s: number } };

export interface ChildFigures {
  append_commands_per_s: number;
  append_1_in_flight_commands_per_s: number;
  heartbeat_completions_per_s_in_window: number;
  heartbeat_total_cpu_ms_per_job: number;
  heartbeat_e2e_p50_ms: number;
  heartbeat_e2e_p99_ms: number;
  heartbeat_completed: number;
  heartbeat_submitted: number;
  /** RunNow commands refused, failed or never answered (bench/heartbeat-throughput.ts). */
  heartbeat_rejected: number;
}

/** The child's append and heartbeat figures; `heartbeat` sets its offered rate and window. */
export async function runAppendAndHeartbeat(
  env: Record<string, string>,
  scale: Scale,
  heartbeat: { rate: number; seconds: number },
  progress: Progress,
): Promise<ChildFigures> {
  const child = spawn(
    'node_modules/.bin/node',
    [
      '--import',
      'tsx',
      '--import',
      './src/telemetry/bootstrap.ts',
      'bench/run.ts',
      '--only',
      'append,heartbeat_throughput',
      '--scale',
      scale,
    ],
    {
      env: {
        ...process.env,
        CV_BENCH_HEARTBEAT_RATE: String(heartbeat.rate),
        CV_BENCH_HEARTBEAT_SECONDS: String(heartbeat.seconds),
        ...env,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let out = '';
  let lastLine = '';
  child.stdout.on('data', (b: Buffer) => (out += b));
  child.stderr.on('data', (b: Buffer) => {
    const lines = b.toString().trim().split('\n');
    lastLine = lines.at(-1) ?? lastLine;
    for (const l of lines)
      if (l.includes(': done in') || l.includes('failed') || l.includes('unanswered'))
        progress(`  ${l.trim()}`);
  });
  const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
  if (code !== 0) throw new Error(`child benchmark exited ${code}: ${lastLine}`);
  const report = JSON.parse(out) as ChildReport;
  const append = report.results.append;
  const hb = report.results.heartbeat_throughput;
  if (append?.error || hb?.error) throw new Error(`child benchmark failed: ${append?.error ?? hb?.error}`);
  return {
    append_commands_per_s: append.handler.median.commands_per_s,
    append_1_in_flight_commands_per_s: append.handler_1_in_flight.median.commands_per_s,
    heartbeat_completions_per_s_in_window: hb.achieved.completions_per_s_in_window,
    heartbeat_total_cpu_ms_per_job: hb.cpu_percent_of_one_core.total_ms_per_job,
    heartbeat_e2e_p50_ms: hb.latency.end_to_end.p50_ms,
    heartbeat_e2e_p99_ms: hb.latency.end_to_end.p99_ms,
    heartbeat_completed: hb.completed,
    heartbeat_submitted: hb.submitted,
    heartbeat_rejected: hb.rejected,
  };
}

/** Per variant, the median of each figure over its runs. */
export function mediansByVariant<V extends string, R extends object>(
  runs: Record<V, R[]>,
  median: (values: number[]) => number,
): Record<V, R> {
  return Object.fromEntries(
    (Object.keys(runs) as V[]).map((variant) => {
      const keys = Object.keys(runs[variant][0]!) as (keyof R)[];
      return [
        variant,
        Object.fromEntries(
          keys.map((k) => [k, Math.round(median(runs[variant].map((x) => Number(x[k]))) * 100) / 100]),
        ),
      ];
    }),
  ) as Record<V, R>;
}
