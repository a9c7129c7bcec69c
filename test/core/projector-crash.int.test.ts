// The projector killed with SIGKILL in the middle of its work, again and again, then restarted: its
// read model equals a full rebuild of the log, every row, and ClickHouse counts each job event once.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { streamNames } from '../../src/events/stream-definitions.ts';
import { migrateAll } from '../../src/migrate/migrate-all.ts';
import { readCheckpoint } from '../../src/projections/checkpoint.ts';
import { countJobEvents } from '../../src/projections/clickhouse-job-events.ts';
import { rebuildProjection } from '../../src/projections/projection-runner.ts';
import { allProjections } from '../../src/projections/registry.ts';
import { openRuntime, type Runtime } from '../../src/runtime/runtime.ts';
import { waitUntil } from '../../src/stack/process-control.ts';
import { createLogger } from '../../src/telemetry/logger.ts';
import { generateEventLog } from '../support/event-log-generator.ts';
import { startNatsServer, type TestNatsServer } from '../support/nats-server.ts';
import { dumpReadModels } from '../support/read-model-dump.ts';
import { startRole } from '../support/role-process.ts';
import { createTestDatabases, type TestDatabases } from '../support/test-databases.ts';

let nats: TestNatsServer;
let dbs: TestDatabases;
let runtime: Runtime;

beforeAll(async () => {
  nats = await startNatsServer();
  dbs = await createTestDatabases({ NATS_URL: nats.url });
  runtime = await openRuntime(dbs.config, 'test');
  await migrateAll(dbs.config, runtime);
});

afterAll(async () => {
  await runtime?.close();
  await dbs?.dispose();
  await nats?.dispose();
});

describe('projector crash safety', () => {
  it('resumes after SIGKILL mid-batch with a read model equal to a full rebuild', async () => {
    const generated = await generateEventLog(runtime.commands, {
      users: 10,
      workflowsPerUser: 5,
      jobsPerWorkflow: 40,
    });
    const last = (await runtime.nats.jsm.streams.info(streamNames.events)).state.last_seq;
    expect(last).toBeGreaterThan(10_000);

    // Kill it three times while it is catching up: each time after it committed something new.
    let seen = 0;
    for (let kill = 0; kill < 3; kill++) {
      const projector = startRole('projector', dbs.config);
      await waitUntil(
        'projector progress',
        async () => {
          const cp = await readCheckpoint(runtime.db, 'read_models');
          return cp > seen;
        },
        60_000,
      );
      await projector.kill('SIGKILL');
      const cp = await readCheckpoint(runtime.db, 'read_models');
      seen = cp;
      if (cp >= last) break;
    }
    expect(seen).toBeLessThan(last);

    const projector = startRole('projector', dbs.config);
    await waitUntil(
      'projector caught up',
      async () =>
        (await readCheckpoint(runtime.db, 'read_models')) >= last &&
        (await readCheckpoint(runtime.db, 'clickhouse_job_events')) >= last,
      120_000,
    );
    expect(await projector.kill('SIGTERM')).toBe(0);

    const live = await dumpReadModels(runtime.db);
    expect(live.jobs).toHaveLength(generated.workflowIds.length * 40);
    const liveCounts = await countJobEvents(runtime.clickhouse, dbs.config.CLICKHOUSE_DATABASE);

    const deps = { nats: runtime.nats, db: runtime.db, log: createLogger('test', 'error') };
    for (const p of allProjections(runtime)) await rebuildProjection(deps, p);
    expect(await dumpReadModels(runtime.db)).toEqual(live);
    expect(await countJobEvents(runtime.clickhouse, dbs.config.CLICKHOUSE_DATABASE)).toEqual(liveCounts);
  });
});
