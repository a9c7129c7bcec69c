// Several projections on one reader of the log, against real NATS and PostgreSQL: one whose store
// fails does not hold the others back for long, and catches up on its own once its store is back.
import { describe, expect, it } from 'vitest';
import type { StoredCommit } from '../../src/events/event-store.ts';
import { streamNames } from '../../src/events/stream-definitions.ts';
import { readCheckpoint } from '../../src/projections/checkpoint.ts';
import { postgresReadModels } from '../../src/projections/postgres-read-models.ts';
import type { Projection } from '../../src/projections/projection.ts';
import { ProjectionRunner } from '../../src/projections/projection-runner.ts';
import { waitUntil } from '../../src/stack/process-control.ts';
import { createLogger } from '../../src/telemetry/logger.ts';
import { generateEventLog } from '../support/event-log-generator.ts';
import { useTestEnvironment } from '../support/test-environment.ts';

const env = useTestEnvironment();

/** A projection whose store refuses every batch while `down` is set (as ClickHouse down would). */
function projectionWithAStore() {
  const store = { down: true, applied: [] as number[] };
  const projection: Projection = {
    name: 'test_flaky_store',
    version: 1,
    subjects: ['cv.evt.>'],
    async applyBatch(_tx, commits: readonly StoredCommit[]) {
      if (store.down) throw new Error('store unavailable');
      store.applied.push(...commits.map((c) => c.sequence));
    },
    async reset() {},
  };
  return { store, projection };
}

describe('projections on one reader', () => {
  it('keep the read models moving while another projection fails, and that one catches up later', async () => {
    const deps = { nats: env.runtime.nats, db: env.runtime.db, log: createLogger('test', 'error') };
    const { store, projection } = projectionWithAStore();
    // Small batches: the failing projection fills its buffer (4 batches) after 200 commits.
    const runner = new ProjectionRunner(deps, [postgresReadModels, projection], {
      batchSize: 50,
      detachAfterMs: 300,
    });
    await runner.start();
    try {
      await generateEventLog(env.runtime.commands, { users: 3, workflowsPerUser: 4, jobsPerWorkflow: 10 });
      const last = (await env.runtime.nats.jsm.streams.info(streamNames.events)).state.last_seq;
      expect(last).toBeGreaterThan(600);

      // Held back by the failing projection, the read models would stop near 200 commits.
      await waitUntil(
        'read models at the end of the log',
        async () => (await readCheckpoint(env.runtime.db, 'read_models')) >= last,
        30_000,
      );
      expect(await readCheckpoint(env.runtime.db, projection.name)).toBe(0);
      expect(runner.position).toBe(0);

      store.down = false;
      await runner.waitFor(last);
      expect(runner.position).toBe(last);
      // Every commit once, in log order.
      expect(store.applied).toEqual(Array.from({ length: last }, (_, i) => i + 1));
    } finally {
      await runner.stop();
    }
  });
});
