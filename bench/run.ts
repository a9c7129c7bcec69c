// `npm run bench`: runs the selected benchmarks one after the other, each in its own private world
// (nats-server, databases), and prints one JSON document on stdout. Progress goes to stderr.
//   --only append,rebuild   run only these (default: all but the soaks, such as chaos)
//   --scale small|full      sizes (default: full; small finishes in well under a minute)
import { parseArgs } from 'node:util';
import { disposeOpenChaosWorlds } from '../test/support/store-chaos.ts';
import { apiReadsBenchmark } from './api-reads.ts';
import { appendBenchmark } from './append.ts';
import { chaosBenchmark } from './chaos.ts';
import { coldLoadBenchmark } from './cold-load.ts';
import { dashboardLogBenchmark } from './dashboard-log.ts';
import { decideBenchmark } from './decide.ts';
import { eventRetentionBenchmark } from './event-retention.ts';
import { executorOverheadBenchmark } from './executor-overhead.ts';
import { heartbeatThroughputBenchmark } from './heartbeat-throughput.ts';
import { herdBenchmark } from './herd.ts';
import { logThroughputBenchmark } from './log-throughput.ts';
import { natsPublishCostBenchmark } from './nats-publish-cost.ts';
import { projectionCatchUpBenchmark } from './projection-catch-up.ts';
import { rebuildBenchmark } from './rebuild.ts';
import { replicationCostBenchmark } from './replication-cost.ts';
import { sseLatencyBenchmark } from './sse-latency.ts';
import { disposeOpenSystems } from './support/api-system.ts';
import { type Benchmark, type Scale, scales } from './support/benchmark.ts';
import { enterCpuQuota, quotaFromEnv } from './support/cpu-quota.ts';
import { disposeOpenEnvironments } from './support/environment.ts';
import { machineInfo } from './support/machine.ts';
import { telemetryModesBenchmark } from './telemetry-modes.ts';
import { telemetryOverheadBenchmark } from './telemetry-overhead.ts';

const benchmarks: readonly Benchmark[] = [
  appendBenchmark,
  decideBenchmark,
  natsPublishCostBenchmark,
  projectionCatchUpBenchmark,
  rebuildBenchmark,
  coldLoadBenchmark,
  eventRetentionBenchmark,
  apiReadsBenchmark,
  herdBenchmark,
  executorOverheadBenchmark,
  heartbeatThroughputBenchmark,
  logThroughputBenchmark,
  sseLatencyBenchmark,
  dashboardLogBenchmark,
  telemetryOverheadBenchmark,
  telemetryModesBenchmark,
  replicationCostBenchmark,
  chaosBenchmark,
];

// stdout carries the report alone: anything else that writes there (a library, a default logger) is
// sent to stderr instead.
const writeReport = process.stdout.write.bind(process.stdout);
process.stdout.write = process.stderr.write.bind(process.stderr) as typeof process.stdout.write;

const t0 = performance.now();
const progress = (message: string) =>
  process.stderr.write(`[bench ${((performance.now() - t0) / 1000).toFixed(1).padStart(6)}s] ${message}\n`);

function usage(problem: string): never {
  process.stderr.write(
    `${problem}\nusage: npm run bench -- [--only ${benchmarks.map((b) => b.name).join(',')}] [--scale ${scales.join('|')}]\n`,
  );
  process.exit(2);
}

function selected(): { chosen: Benchmark[]; scale: Scale } {
  let values: { only?: string | undefined; scale?: string | undefined };
  try {
    ({ values } = parseArgs({
      options: { only: { type: 'string' }, scale: { type: 'string', default: 'full' } },
      strict: true,
      allowPositionals: false,
    }));
  } catch (err) {
    usage(err instanceof Error ? err.message : String(err));
  }
  const scale = values.scale as Scale;
  if (!scales.includes(scale)) usage(`unknown scale "${values.scale}"`);
  if (values.only === undefined) return { chosen: benchmarks.filter((b) => !b.onlyWhenNamed), scale };
  const names = values.only
    .split(',')
    // dashboard-log names dashboard_log: a hyphen is taken for the underscore.
    .map((n) => n.trim().replaceAll('-', '_'))
    .filter(Boolean);
  const unknown = names.filter((n) => !benchmarks.some((b) => b.name === n));
  if (unknown.length || names.length === 0)
    usage(`unknown benchmark(s): ${unknown.join(', ') || '(none named)'}`);
  return { chosen: benchmarks.filter((b) => names.includes(b.name)), scale };
}

let interrupted = false;
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    interrupted = true;
    progress(`${signal}: removing the private servers and databases`);
    void Promise.all([disposeOpenEnvironments(), disposeOpenSystems(), disposeOpenChaosWorlds()]).finally(
      () => process.exit(130),
    );
  });
}

const { chosen, scale } = selected();
const started_at = new Date().toISOString();
const quotaCores = quotaFromEnv(process.env.CV_BENCH_CPU_QUOTA);
const quota = quotaCores === undefined ? undefined : enterCpuQuota(quotaCores);
const machine = { ...(await machineInfo()), ...(quota ? { cpu_quota_cores: quota.cores } : {}) };
if (quota)
  progress(
    `under a CPU quota of ${quota.cores} cores (${quota.cgroup}); PostgreSQL and ClickHouse outside it`,
  );
progress(`scale ${scale}: ${chosen.map((b) => b.name).join(', ')} on ${machine.cpus} x ${machine.cpu_model}`);

const results: Record<string, object> = {};
let failed = false;
for (const b of chosen) {
  if (interrupted) break;
  progress(`${b.name}: ${b.description}`);
  const t = performance.now();
  try {
    results[b.name] = await b.run(scale, progress);
  } catch (err) {
    failed = true;
    progress(`${b.name} failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
    results[b.name] = { error: err instanceof Error ? err.message : String(err) };
  }
  progress(`${b.name}: done in ${((performance.now() - t) / 1000).toFixed(1)}s`);
}

// An interrupted run prints nothing: a half report must not pass for a result.
if (!interrupted) writeReport(`${JSON.stringify({ machine, started_at, scale, results }, null, 2)}\n`);
process.exitCode = failed ? 1 : 0;
