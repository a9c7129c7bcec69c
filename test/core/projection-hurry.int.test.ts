// A projection gathers a small batch for its batch interval under a steady stream, applies a commit
// after a quiet spell at once, sends a batch worth its transaction without the long wait, and is
// hurried back to its minimum interval by a reader that waits (a message on the hurry subject, as the
// API sends while a mutation waits for the read models), against real NATS and PostgreSQL.
import { randomUUID } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import type { StoredCommit } from '../../src/events/event-store.ts';
import { PROJECTIONS_HURRY_SUBJECT } from '../../src/events/subjects.ts';
import type { Projection } from '../../src/projections/projection.ts';
import { ProjectionRunner } from '../../src/projections/projection-runner.ts';
import { waitUntil } from '../../src/stack/process-control.ts';
import { createLogger } from '../../src/telemetry/logger.ts';
import { createHeartbeatWorkflow } from '../support/fixtures.ts';
import { useTestEnvironment } from '../support/test-environment.ts';

const env = useTestEnvironment();
const GATHER_MS = 1500;
const WORTHWHILE = 5;

/** Records when each commit was applied. */
function recordingProjection(name: string) {
  const appliedAt = new Map<number, number>();
  const projection: Projection = {
    name,
    version: 1,
    subjects: ['cv.evt.>'],
    minBatchIntervalMs: 20,
    batchIntervalMs: GATHER_MS,
    worthwhileBatch: WORTHWHILE,
    async applyBatch(_tx, commits: readonly StoredCommit[]) {
      for (const c of commits) appliedAt.set(c.sequence, Date.now());
    },
    async reset() {},
  };
  return { projection, appliedAt };
}

let runner: ProjectionRunner | undefined;
afterEach(async () => {
  await runner?.stop();
  runner = undefined;
});

/** Appends one commit; resolves with its sequence and when it was appended. */
async function appendOne(): Promise<{ sequence: number; at: number }> {
  const result = await createHeartbeatWorkflow(env.runtime.commands, 'u-hurry', randomUUID());
  return { sequence: result.version, at: Date.now() };
}

async function appliedDelay(appliedAt: Map<number, number>, c: { sequence: number; at: number }) {
  await waitUntil('commit applied', async () => appliedAt.has(c.sequence), 10_000);
  return appliedAt.get(c.sequence)! - c.at;
}

describe('projection batches', () => {
  it('gather while small, and go after the minimum interval when hurried or worth their transaction', async () => {
    const { projection, appliedAt } = recordingProjection(`test_hurry_${randomUUID().slice(0, 8)}`);
    runner = new ProjectionRunner(
      { nats: env.runtime.nats, db: env.runtime.db, log: createLogger('test', 'error') },
      [projection],
    );
    await runner.start();

    // After a quiet spell: at once.
    await new Promise((r) => setTimeout(r, GATHER_MS));
    const first = await appendOne();
    expect(await appliedDelay(appliedAt, first)).toBeLessThan(GATHER_MS / 2);

    // Right behind it: gathered until the interval since the last batch has passed.
    const second = await appendOne();
    expect(await appliedDelay(appliedAt, second)).toBeGreaterThan(GATHER_MS / 2);

    // Right behind again, but a reader waits: hurried to the minimum interval.
    const third = await appendOne();
    env.runtime.nats.nc.publish(PROJECTIONS_HURRY_SUBJECT);
    expect(await appliedDelay(appliedAt, third)).toBeLessThan(GATHER_MS / 2);

    // Past the hurry, right behind a batch, as many commits as make a batch worthwhile: no long wait.
    await new Promise((r) => setTimeout(r, 1100));
    const fourth = await appendOne();
    await appliedDelay(appliedAt, fourth);
    const burst = [];
    for (let i = 0; i < WORTHWHILE; i++) burst.push(await appendOne());
    expect(await appliedDelay(appliedAt, burst[0]!)).toBeLessThan(GATHER_MS / 2);
  });
});
