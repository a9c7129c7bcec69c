// Projection catch-up: a ProjectionRunner starting from checkpoint 0 over a log written beforehand,
// timed from `start()` until `waitFor(last sequence)` resolves. First the Postgres read models
// (`read_models`), then, separately, the ClickHouse job events (`clickhouse_job_events`), as the
// projector role would run them (each keeps its own state: the ClickHouse one in job_event_state).
import { sql } from 'kysely';
import { clickhouseJobEvents, countJobEvents } from '../src/projections/clickhouse-job-events.ts';
import { postgresReadModels } from '../src/projections/postgres-read-models.ts';
import type { Projection } from '../src/projections/projection.ts';
import { ProjectionRunner } from '../src/projections/projection-runner.ts';
import type { LogShape } from '../test/support/event-log-generator.ts';
import type { Benchmark, Progress, Scale } from './support/benchmark.ts';
import { type BenchEnvironment, openBenchEnvironment } from './support/environment.ts';
import { type EventLog, readModelRowCounts, writeEventLog } from './support/event-log.ts';
import { medianOfRuns, perSecond, round, withTimeout } from './support/stats.ts';
import { type ProjectionTiming, timedProjection } from './support/timed-projection.ts';

/** Shared with the rebuild benchmark, so both read the same log. Full: about 100k events. */
export const logShapes: Record<Scale, Required<LogShape>> = {
  full: { users: 50, workflowsPerUser: 20, jobsPerWorkflow: 15, concurrency: 128 },
  small: { users: 8, workflowsPerUser: 10, jobsPerWorkflow: 12, concurrency: 128 },
};

const runsAt: Record<Scale, number> = { full: 1, small: 3 };
const BATCH_SIZE = 1000;
const TIMEOUT_MS = 10 * 60_000;

export interface ProjectionRun extends ProjectionTiming {
  duration_ms: number;
  commits_per_s: number;
  events_per_s: number;
  /** Share of the duration spent inside the projection's own applyBatch (its SQL and reducing). */
  apply_batch_share: number;
}

export function projectionRun(log: EventLog, durationMs: number, timing: ProjectionTiming): ProjectionRun {
  return {
    duration_ms: round(durationMs, 1),
    commits_per_s: perSecond(log.commits, durationMs),
    events_per_s: perSecond(log.events, durationMs),
    ...timing,
    apply_batch_share: round(timing.apply_batch_ms / durationMs),
  };
}

/** Back to "never ran": rows wiped, checkpoint gone, so the next runner starts at sequence 1. */
async function forget(env: BenchEnvironment, projection: Projection): Promise<void> {
  await env.db.transaction().execute(async (tx) => {
    await projection.reset(tx);
    await sql`delete from projection_checkpoints where projection = ${projection.name}`.execute(tx);
  });
}

async function catchUp(env: BenchEnvironment, projection: Projection, log: EventLog): Promise<number> {
  const runner = new ProjectionRunner({ nats: env.nats, db: env.db, log: env.log }, projection, {
    batchSize: BATCH_SIZE,
  });
  const started = performance.now();
  await runner.start();
  try {
    await withTimeout(runner.waitFor(log.last_sequence), TIMEOUT_MS, `${projection.name} catch-up`);
    return performance.now() - started;
  } finally {
    await runner.stop();
  }
}

async function timeRuns(
  env: BenchEnvironment,
  projection: Projection,
  log: EventLog,
  runs: number,
  progress: Progress,
): Promise<ProjectionRun[]> {
  const out: ProjectionRun[] = [];
  const timed = timedProjection(projection);
  for (let r = 1; r <= runs; r++) {
    if (r > 1) await forget(env, projection);
    timed.take();
    const duration = await catchUp(env, timed.projection, log);
    out.push(projectionRun(log, duration, timed.take()));
    progress(`${projection.name}: run ${r}/${runs}: ${out.at(-1)!.events_per_s} events/s`);
  }
  return out;
}

export const projectionCatchUpBenchmark: Benchmark = {
  name: 'projection_catch_up',
  description: 'ProjectionRunner from checkpoint 0 to the end of a generated log, Postgres then ClickHouse',
  async run(scale, progress) {
    const runs = runsAt[scale];
    const env = await openBenchEnvironment('projection_catch_up', progress);
    try {
      const log = await writeEventLog(env, logShapes[scale], progress);
      const readModels = await timeRuns(env, postgresReadModels, log, runs, progress);
      const rows = await readModelRowCounts(env);
      if (rows.jobs !== log.jobs || rows.workflows !== log.workflows || rows.users !== log.users) {
        throw new Error(`read models incomplete: ${JSON.stringify(rows)} for ${JSON.stringify(log)}`);
      }
      const clickhouse = clickhouseJobEvents(env.clickhouse, env.config.CLICKHOUSE_DATABASE);
      const analytics = await timeRuns(env, clickhouse, log, runs, progress);
      const counts = await countJobEvents(env.clickhouse, env.config.CLICKHOUSE_DATABASE);
      const jobEventRows = Object.values(counts).reduce((a, b) => a + b, 0);
      if (jobEventRows !== log.events_by_aggregate.job) {
        throw new Error(
          `ClickHouse holds ${jobEventRows} job events, the log ${log.events_by_aggregate.job}`,
        );
      }
      return {
        runs,
        log,
        read_models: {
          projection: postgresReadModels.name,
          batch_size: BATCH_SIZE,
          rows,
          median: medianOfRuns(readModels),
          runs: readModels,
        },
        clickhouse_job_events: {
          projection: clickhouse.name,
          batch_size: BATCH_SIZE,
          job_event_rows: jobEventRows,
          median: medianOfRuns(analytics),
          runs: analytics,
        },
      };
    } finally {
      await env.dispose();
    }
  },
};
