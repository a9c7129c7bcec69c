// Projections against real NATS, PostgreSQL and ClickHouse: the live read model equals a full
// rebuild, row for row; analytics in ClickHouse count every job event once.
import { describe, expect, it } from 'vitest';
import { streamNames } from '../../src/events/stream-definitions.ts';
import { countJobEvents } from '../../src/projections/clickhouse-job-events.ts';
import { rebuildProjection } from '../../src/projections/projection-batch.ts';
import { ProjectionRunner } from '../../src/projections/projection-runner.ts';
import { allProjections } from '../../src/projections/registry.ts';
import { createLogger } from '../../src/telemetry/logger.ts';
import { generateEventLog } from '../support/event-log-generator.ts';
import { dumpReadModels } from '../support/read-model-dump.ts';
import { useTestEnvironment } from '../support/test-environment.ts';

const env = useTestEnvironment();

describe('projections', () => {
  it('build the read models live, and a rebuild of thousands of events gives the same rows', async () => {
    const log = createLogger('test', 'error');
    const deps = { nats: env.runtime.nats, db: env.runtime.db, log };
    // As the projector runs them: every projection on one consumer. Small batches, so the ClickHouse
    // analytics (a batch a second at most) fill their buffer and hold reading back while the read
    // models go on applying theirs.
    const runner = new ProjectionRunner(deps, allProjections(env.runtime), { batchSize: 200 });
    await runner.start();
    // Part of the log is written while the runners are live, part before they catch up.
    const generated = await generateEventLog(env.runtime.commands, {
      users: 6,
      workflowsPerUser: 5,
      jobsPerWorkflow: 12,
    });
    const last = (await env.runtime.nats.jsm.streams.info(streamNames.events)).state.last_seq;
    expect(last).toBeGreaterThan(2000);
    await runner.waitFor(last);
    expect(runner.position).toBe(last);
    await runner.stop();

    const live = await dumpReadModels(env.runtime.db);
    expect(live.workflows).toHaveLength(generated.workflowIds.length);
    expect(live.jobs).toHaveLength(generated.workflowIds.length * 12);
    expect(live.users).toHaveLength(6);
    // Users with preference ALL get success notifications; the others only errors (ALERTS).
    const kinds = new Set((live.notifications as { kind: string }[]).map((n) => n.kind));
    expect(kinds).toEqual(new Set(['WEB_SUCCESS', 'WEB_ERROR', 'WEB_WARN', 'WEB_INFO']));
    const stats = live.user_stats as {
      jobs_total: number;
      jobs_completed: number;
      jobs_failed: number;
      jobs_canceled: number;
    }[];
    for (const s of stats) expect(s.jobs_completed + s.jobs_failed + s.jobs_canceled).toBe(s.jobs_total);
    const liveCounts = await countJobEvents(env.runtime.clickhouse, env.config.CLICKHOUSE_DATABASE);
    expect(liveCounts.JobCreated).toBe(generated.workflowIds.length * 12);

    for (const p of allProjections(env.runtime)) await rebuildProjection(deps, p);
    expect(await dumpReadModels(env.runtime.db)).toEqual(live);
    expect(await countJobEvents(env.runtime.clickhouse, env.config.CLICKHOUSE_DATABASE)).toEqual(liveCounts);
  });
});
