// The projector killed with SIGKILL in the middle of its work, again and again, then restarted: its
// read model equals a full rebuild of the log, every row, and ClickHouse counts each job event once.
import { describe, expect, it } from 'vitest';
import { streamNames } from '../../src/events/stream-definitions.ts';
import { readCheckpoint } from '../../src/projections/checkpoint.ts';
import { countJobEvents } from '../../src/projections/clickhouse-job-events.ts';
import { rebuildProjection } from '../../src/projections/projection-batch.ts';
import { allProjections } from '../../src/projections/registry.ts';
import { waitUntil } from '../../src/stack/process-control.ts';
import { createLogger } from '../../src/telemetry/logger.ts';
import { generateEventLog } from '../support/event-log-generator.ts';
import { dumpReadModels } from '../support/read-model-dump.ts';
import { startRole } from '../support/role-process.ts';
import { useTestEnvironment } from '../support/test-environment.ts';

const env = useTestEnvironment();

describe('projector crash safety', () => {
  it('resumes after SIGKILL mid-batch with a read model equal to a full rebuild', {
    timeout: 180_000,
  }, async () => {
    const generated = await generateEventLog(env.runtime.commands, {
      users: 10,
      workflowsPerUser: 5,
      jobsPerWorkflow: 40,
    });
    const last = (await env.runtime.nats.jsm.streams.info(streamNames.events)).state.last_seq;
    expect(last).toBeGreaterThan(10_000);

    // Kill it three times while it is catching up: each time after it committed something new.
    let seen = 0;
    for (let kill = 0; kill < 3; kill++) {
      const projector = startRole('projector', env.config);
      await waitUntil(
        'projector progress',
        async () => {
          const cp = await readCheckpoint(env.runtime.db, 'read_models');
          return cp > seen;
        },
        60_000,
      );
      await projector.kill('SIGKILL');
      const cp = await readCheckpoint(env.runtime.db, 'read_models');
      seen = cp;
      if (cp >= last) break;
    }
    expect(seen).toBeLessThan(last);

    const projector = startRole('projector', env.config);
    await waitUntil(
      'projector caught up',
      async () =>
        (await readCheckpoint(env.runtime.db, 'read_models')) >= last &&
        (await readCheckpoint(env.runtime.db, 'clickhouse_job_events')) >= last,
      120_000,
    );
    expect(await projector.kill('SIGTERM')).toBe(0);

    const live = await dumpReadModels(env.runtime.db);
    expect(live.jobs).toHaveLength(generated.workflowIds.length * 40);
    const liveCounts = await countJobEvents(env.runtime.clickhouse, env.config.CLICKHOUSE_DATABASE);

    const deps = { nats: env.runtime.nats, db: env.runtime.db, log: createLogger('test', 'error') };
    for (const p of allProjections(env.runtime)) await rebuildProjection(deps, p);
    expect(await dumpReadModels(env.runtime.db)).toEqual(live);
    expect(await countJobEvents(env.runtime.clickhouse, env.config.CLICKHOUSE_DATABASE)).toEqual(liveCounts);
  });
});
