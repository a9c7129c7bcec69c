// The cost of replication (issue 17): append and heartbeat throughput on one nats-server (streams R1)
// against a private 3-node cluster on this machine (every stream and bucket R3), in one command. Each
// variant runs `bench/run.ts --only append,heartbeat_throughput` as a child with CV_BENCH_NATS_NODES
// set, so the benchmark's roles and load generator run against that world; the variants alternate
// round after round and medians and ratios against one node are reported. All three nodes share this
// machine's two cores with everything else: the figures are the work of keeping three copies, not the
// network of three hosts.
import type { Benchmark, Progress, Scale } from './support/benchmark.ts';
import { type ChildFigures, mediansByVariant, runAppendAndHeartbeat } from './support/child-bench.ts';
import { median, round } from './support/stats.ts';

type Variant = 'one_node_r1' | 'three_nodes_r3';

const nodesOf: Record<Variant, string> = { one_node_r1: '1', three_nodes_r3: '3' };

const sizes: Record<
  Scale,
  { rounds: number; childScale: Scale; heartbeatRate: number; heartbeatSeconds: number }
> = {
  full: { rounds: 2, childScale: 'full', heartbeatRate: 200, heartbeatSeconds: 30 },
  small: { rounds: 1, childScale: 'small', heartbeatRate: 50, heartbeatSeconds: 5 },
};

export const replicationCostBenchmark: Benchmark = {
  name: 'replication_cost',
  description:
    'append and heartbeat throughput on one nats-server (R1) against a 3-node cluster (R3), alternating',
  onlyWhenNamed: true,
  async run(scale: Scale, progress: Progress) {
    const s = sizes[scale];
    const runs: Record<Variant, ChildFigures[]> = { one_node_r1: [], three_nodes_r3: [] };
    for (let r = 0; r < s.rounds; r++) {
      for (const variant of Object.keys(runs) as Variant[]) {
        progress(`replication_cost: round ${r + 1}/${s.rounds}, ${variant}`);
        const figures = await runAppendAndHeartbeat(
          { CV_BENCH_NATS_NODES: nodesOf[variant], OTEL_SDK_DISABLED: 'true' },
          s.childScale,
          { rate: s.heartbeatRate, seconds: s.heartbeatSeconds },
          progress,
        );
        progress(`replication_cost: ${variant} ${JSON.stringify(figures)}`);
        runs[variant].push(figures);
      }
    }
    const medians = mediansByVariant(runs, median);
    const ratio = (k: keyof ChildFigures) => round(medians.three_nodes_r3[k] / medians.one_node_r1[k], 3);
    return {
      what: `bench/run.ts --only append,heartbeat_throughput --scale ${s.childScale} per variant (heartbeat at ${s.heartbeatRate}/s for ${s.heartbeatSeconds} s), variants alternating, ${s.rounds} round(s); all nodes on this machine`,
      medians,
      ratios_three_to_one: {
        append_commands_per_s: ratio('append_commands_per_s'),
        append_1_in_flight_commands_per_s: ratio('append_1_in_flight_commands_per_s'),
        heartbeat_completions_per_s_in_window: ratio('heartbeat_completions_per_s_in_window'),
        heartbeat_total_cpu_ms_per_job: ratio('heartbeat_total_cpu_ms_per_job'),
        heartbeat_e2e_p50_ms: ratio('heartbeat_e2e_p50_ms'),
        heartbeat_e2e_p99_ms: ratio('heartbeat_e2e_p99_ms'),
      },
      runs,
    };
  },
};
