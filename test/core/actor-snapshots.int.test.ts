// Persisted actor snapshots against a real JetStream (KV bucket CV_SNAPSHOTS): a cold process loads a
// long-lived workflow from its latest snapshot and the commits after it, to the very state a full
// replay gives, and never trusts a snapshot of another machine definition or of another history.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { snapshotState } from '../../src/actors/aggregate.ts';
import { CommandHandler } from '../../src/actors/command-handler.ts';
import { machineFingerprint } from '../../src/actors/snapshot-store.ts';
import { workflowDecider } from '../../src/actors/workflow-decider.ts';
import { EventStore } from '../../src/events/event-store.ts';
import { natsSnapshotStore, type SnapshotStore } from '../../src/events/snapshot-bucket.ts';
import { streamDefinitions } from '../../src/events/stream-definitions.ts';
import { eventSubject } from '../../src/events/subjects.ts';
import type { WorkflowCommand } from '../../src/events/workflow-events.ts';
import { connectNats, type Nats } from '../../src/infra/nats-connection.ts';
import { reconcileStreams } from '../../src/migrate/jetstream-topology.ts';
import { createHeartbeat, newId } from '../support/fixtures.ts';
import { startNatsServer, type TestNatsServer } from '../support/nats-server.ts';

let server: TestNatsServer;
let nats: Nats;
let store: EventStore;
let snapshots: SnapshotStore;

beforeAll(async () => {
  server = await startNatsServer();
  nats = await connectNats(server.url, 'test');
  await reconcileStreams(nats.jsm, streamDefinitions({ logBufferMaxAgeHours: 1 }));
  store = new EventStore(nats.js, nats.jsm);
  snapshots = natsSnapshotStore(nats.nc);
});

afterAll(async () => {
  await nats?.nc.close();
  await server?.dispose();
});

/** The store as it is, writing down where every read of a subject starts. */
function recordingStore() {
  const reads: number[] = [];
  class RecordingStore extends EventStore {
    override read(subject: string, from = 1, until?: number, limit?: number) {
      reads.push(from);
      return super.read(subject, from, until, limit);
    }
  }
  return { store: new RecordingStore(nats.js, nats.jsm), reads };
}

/** A workflow with `runs` run-nows, every one of whose jobs ended (alternately failed): 1 + 2 x runs commits. */
async function busyWorkflow(handler: CommandHandler, runs: number) {
  const [userId, workflowId] = [newId(), newId()];
  const on = (command: WorkflowCommand) =>
    handler.handle(workflowDecider, { commandId: newId(), userId, aggregateId: workflowId, command });
  await on(createHeartbeat(userId, workflowId));
  for (let i = 0; i < runs; i++) {
    const job_id = newId();
    await on({ type: 'RunNow', data: { job_id } });
    await on({ type: 'RecordJobOutcome', data: { job_id, outcome: i % 3 === 0 ? 'FAILED' : 'COMPLETED' } });
  }
  return { userId, workflowId, subject: eventSubject(userId, 'workflow', workflowId) };
}

/** The workflow's state from a full replay of its subject (no snapshot store, cold cache). */
async function replayed(userId: string, workflowId: string) {
  const loaded = await new CommandHandler(store).load(workflowDecider, userId, workflowId);
  return { version: loaded.version, state: snapshotState(loaded.state) };
}

describe('persisted actor snapshots', () => {
  it('a cold load reads the latest snapshot and only the commits after it, to the state a full replay gives', async () => {
    const writer = new CommandHandler(store, { snapshots, snapshotEvery: 50 });
    const { userId, workflowId, subject } = await busyWorkflow(writer, 60); // 121 commits
    const stored = await eventually(async () => {
      const s = await snapshots.get(subject);
      return s && s.version > 0 ? s : undefined;
    });
    expect(stored.fingerprint).toBe(machineFingerprint(workflowDecider.machine));

    const { store: recording, reads } = recordingStore();
    const cold = await new CommandHandler(recording, { snapshots }).load(workflowDecider, userId, workflowId);
    // One read, from the snapshot's own commit (checked against the log) onwards; never from 1.
    expect(reads).toEqual([stored.version]);
    const full = await replayed(userId, workflowId);
    expect(cold.version).toBe(full.version);
    expect(snapshotState(cold.state)).toEqual(full.state);
    expect(full.state.context.recorded_job_ids).toHaveLength(60);
  });

  it('a load of many commits with no snapshot yet persists one, which the next cold process starts from', async () => {
    const { userId, workflowId, subject } = await busyWorkflow(new CommandHandler(store), 30); // 61 commits
    expect(await snapshots.get(subject)).toBeUndefined();
    await new CommandHandler(store, { snapshots, snapshotEvery: 50 }).load(
      workflowDecider,
      userId,
      workflowId,
    );
    const stored = await eventually(() => snapshots.get(subject));
    const full = await replayed(userId, workflowId);
    expect(stored.version).toBe(full.version);

    const { store: recording, reads } = recordingStore();
    const cold = await new CommandHandler(recording, { snapshots }).load(workflowDecider, userId, workflowId);
    expect(reads).toEqual([full.version]);
    expect(snapshotState(cold.state)).toEqual(full.state);
  });

  it('ignores a snapshot of another machine definition or of another history, and replays the subject', async () => {
    const { userId, workflowId, subject } = await busyWorkflow(new CommandHandler(store), 5);
    const full = await replayed(userId, workflowId);
    const forged = structuredClone(full.state);
    (forged.context as { name: string }).name = 'not what the log says';
    const fingerprint = machineFingerprint(workflowDecider.machine);
    const lastEventId = (await store.read(subject, full.version, full.version))[0]?.events.at(-1)?.id ?? '';
    expect(lastEventId).not.toBe('');

    for (const wrong of [
      { version: full.version, fingerprint: 'an older machine', lastEventId, state: forged },
      { version: full.version, fingerprint, lastEventId: newId(), state: forged },
      { version: full.version + 1_000_000, fingerprint, lastEventId, state: forged },
    ]) {
      await snapshots.put(subject, wrong);
      const { store: recording, reads } = recordingStore();
      const cold = await new CommandHandler(recording, { snapshots }).load(
        workflowDecider,
        userId,
        workflowId,
      );
      expect(reads.at(-1)).toBe(1);
      expect(snapshotState(cold.state)).toEqual(full.state);
    }
    // The one that matches the log is used (the check above is not what refuses every snapshot).
    await snapshots.put(subject, { version: full.version, fingerprint, lastEventId, state: forged });
    const trusted = await new CommandHandler(store, { snapshots }).load(workflowDecider, userId, workflowId);
    expect(trusted.state.context.name).toBe('not what the log says');
  });
});

async function eventually<T>(read: () => Promise<T | undefined>, timeoutMs = 5_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await read();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error('timed out waiting for a snapshot');
    await new Promise((r) => setTimeout(r, 50));
  }
}
