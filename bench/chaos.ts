// Chaos soak (issue 14, item 1): each store faulted under load, one at a time, as the e2e tests
// (test/platform/store-faults-*.e2e.test.ts) do with a heavier load and the full outage.
// For each of nats-server, PostgreSQL, ClickHouse and the Docker engine: a world of its own (that
// store private to the run, `chronoverse all` on it: test/support/store-chaos.ts), per-second crons
// (HEARTBEAT, and CONTAINER writing log lines where the store matters to them), run-nows with an
// Idempotency-Key (and some without, where the log stays up) at a fixed rate; then the store is
// SIGKILLed and started again, then stopped cleanly for 30 s and started again, the load on
// throughout. Reported per fault: requests by status (a 503 is a refusal with Retry-After, retried
// with its key after the recovery), ticks by outcome and how late they started (max, p99), jobs,
// log lines stored, the recovery times from the instant the store answers again (`readyz`: /readyz
// ready; `requests`: the first run-now accepted; `projections`: the read models and analytics at the
// log's end as of that instant; `logs`: the log processor drained; `long_job_ended`: the container
// that ran across a Docker fault ended), and every invariant of the issue that the run broke
// (`violations`, expected empty; also listed on stderr).
import type { StoreKind } from '../test/support/private-stores.ts';
import {
  assess,
  type FaultKind,
  type FaultPlan,
  type FaultReport,
  runFault,
  startChaosWorld,
} from '../test/support/store-chaos.ts';
import type { Benchmark, Progress, Scale } from './support/benchmark.ts';

interface Shape {
  outageMs: number;
  leadMs: number;
  tailMs: number;
  runNowsPerSecond: number;
  keylessPerSecond: number;
  heartbeatWorkflows: number;
  containerWorkflows: number;
  linesPerJob: number;
}

const shapes: Record<Scale, Shape> = {
  full: {
    outageMs: 30_000,
    leadMs: 10_000,
    tailMs: 20_000,
    runNowsPerSecond: 20,
    keylessPerSecond: 5,
    heartbeatWorkflows: 10,
    containerWorkflows: 2,
    linesPerJob: 20,
  },
  small: {
    outageMs: 5000,
    leadMs: 2000,
    tailMs: 4000,
    runNowsPerSecond: 4,
    keylessPerSecond: 1,
    heartbeatWorkflows: 2,
    containerWorkflows: 1,
    linesPerJob: 3,
  },
};

const stores: readonly StoreKind[] = ['nats', 'postgres', 'clickhouse', 'docker'];
const faults: readonly FaultKind[] = ['restart', 'stop'];

function planFor(store: StoreKind, fault: FaultKind, s: Shape): FaultPlan {
  return {
    fault,
    outageMs: fault === 'stop' ? s.outageMs : 0,
    leadMs: s.leadMs,
    tailMs: s.tailMs,
    runNowsPerSecond: s.runNowsPerSecond,
    keylessPerSecond: s.keylessPerSecond,
    heartbeatWorkflows: s.heartbeatWorkflows,
    // CONTAINER crons where the store is theirs: their lines (ClickHouse), their engine (Docker).
    containerWorkflows: store === 'clickhouse' || store === 'docker' ? s.containerWorkflows : 0,
    linesPerJob: s.linesPerJob,
    ...(store === 'docker' ? { longJobSeconds: 6 } : {}),
  };
}

async function run(scale: Scale, progress: Progress): Promise<object> {
  const shape = shapes[scale];
  const results: Record<string, Record<string, Omit<FaultReport, 'store' | 'fault'>>> = {};
  const broken: string[] = [];
  for (const store of stores) {
    progress(`chaos: ${store}: starting a world with a private ${store}`);
    const world = await startChaosWorld(store);
    try {
      for (const fault of faults) {
        const plan = planFor(store, fault, shape);
        const faultRun = await runFault(world, plan, (m) => progress(`chaos: ${m}`));
        const { store: _s, fault: _f, ...report } = await assess(world, faultRun, { rebuild: true });
        progress(
          `chaos: ${store} ${fault}: ${JSON.stringify(report.requests.by_status)}, late max ${report.ticks.late_max_ms} ms, recovery ${JSON.stringify(report.recovery_ms)}, ${report.violations.length} violations`,
        );
        for (const v of report.violations) broken.push(`${store} ${fault}: ${v}`);
        results[store] ??= {};
        results[store][fault] = report;
      }
    } finally {
      await world.dispose();
    }
  }
  if (broken.length) progress(`chaos: ${broken.length} violations:\n${broken.join('\n')}`);
  return {
    shape: {
      outage_s: shape.outageMs / 1000,
      load_before_s: shape.leadMs / 1000,
      load_after_s: shape.tailMs / 1000,
      run_nows_per_s: shape.runNowsPerSecond,
      keyless_run_nows_per_s: shape.keylessPerSecond,
      per_second_heartbeat_crons: shape.heartbeatWorkflows,
      per_second_container_crons: shape.containerWorkflows,
      lines_per_container_run: shape.linesPerJob,
    },
    results,
    violations: broken,
  };
}

export const chaosBenchmark: Benchmark = {
  name: 'chaos',
  description:
    'each store (nats-server, PostgreSQL, ClickHouse, Docker) SIGKILLed and restarted, then stopped for 30 s, under per-second crons and run-nows: requests failed, ticks late, recovery times, invariants',
  onlyWhenNamed: true,
  run,
};
