// Rebuild: `rebuildProjection` of the Postgres read models over a generated log, the whole replay in
// one transaction (what an operator runs after changing a projection, and what the runner does itself
// when a projection's version changes).
import { postgresReadModels } from '../src/projections/postgres-read-models.ts';
import { rebuildProjection } from '../src/projections/projection-batch.ts';
import { logShapes, type ProjectionRun, projectionRun } from './projection-catch-up.ts';
import type { Benchmark, Scale } from './support/benchmark.ts';
import { openBenchEnvironment } from './support/environment.ts';
import { readModelRowCounts, writeEventLog } from './support/event-log.ts';
import { medianOfRuns } from './support/stats.ts';
import { timedProjection } from './support/timed-projection.ts';

const runsAt: Record<Scale, number> = { full: 1, small: 3 };
/** rebuildProjection's default. */
const BATCH_SIZE = 2000;

export const rebuildBenchmark: Benchmark = {
  name: 'rebuild',
  description: 'rebuildProjection of read_models over a generated log, in one transaction',
  async run(scale, progress) {
    const runs = runsAt[scale];
    const env = await openBenchEnvironment('rebuild', progress);
    try {
      const log = await writeEventLog(env, logShapes[scale], progress);
      const deps = { nats: env.nats, db: env.db, log: env.log };
      const timed: ProjectionRun[] = [];
      const readModels = timedProjection(postgresReadModels);
      for (let r = 1; r <= runs; r++) {
        // Every run but the first replaces the rows the previous one wrote, as a real rebuild does.
        const started = performance.now();
        const last = await rebuildProjection(deps, readModels.projection, BATCH_SIZE);
        timed.push(projectionRun(log, performance.now() - started, readModels.take()));
        if (last !== log.last_sequence)
          throw new Error(`rebuild stopped at ${last}, not ${log.last_sequence}`);
        progress(`rebuild: run ${r}/${runs}: ${timed.at(-1)!.events_per_s} events/s`);
      }
      const rows = await readModelRowCounts(env);
      if (rows.jobs !== log.jobs || rows.workflows !== log.workflows || rows.users !== log.users) {
        throw new Error(`read models incomplete: ${JSON.stringify(rows)} for ${JSON.stringify(log)}`);
      }
      return {
        runs,
        log,
        read_models: {
          projection: postgresReadModels.name,
          batch_size: BATCH_SIZE,
          rows,
          median: medianOfRuns(timed),
          runs: timed,
        },
      };
    } finally {
      await env.dispose();
    }
  },
};
