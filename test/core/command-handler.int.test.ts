// The command handler against a real JetStream: optimistic concurrency, idempotent command ids,
// history in order.
import { spawn } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { snapshotState } from '../../src/actors/aggregate.ts';
import { CommandHandler } from '../../src/actors/command-handler.ts';
import { workflowDecider } from '../../src/actors/workflow-decider.ts';
import { workflowStatus } from '../../src/actors/workflow-machine.ts';
import { ConcurrencyConflict, EventStore, observedCommit } from '../../src/events/event-store.ts';
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

beforeAll(async () => {
  server = await startNatsServer();
  nats = await connectNats(server.url, 'test');
  await reconcileStreams(nats.jsm, streamDefinitions({ logBufferMaxAgeHours: 1 }));
  store = new EventStore(nats.js, nats.jsm);
});

afterAll(async () => {
  await nats?.nc.close();
  await server?.dispose();
});

/**
 * The store as it is, writing down where every read of a subject starts (`reads`) and how often the
 * subject's last sequence is asked for (`lastSequenceRequests`).
 */
function recordingStore() {
  const record = { reads: [] as number[], lastSequenceRequests: 0 };
  class RecordingStore extends EventStore {
    override read(subject: string, from = 1, until?: number, limit?: number) {
      record.reads.push(from);
      return super.read(subject, from, until, limit);
    }
    override lastSequence(subject: string) {
      record.lastSequenceRequests++;
      return super.lastSequence(subject);
    }
  }
  return { store: new RecordingStore(nats.js, nats.jsm), record };
}

describe('command handler', () => {
  it('creates an actor, appends its events as one commit, and reads them back in order', async () => {
    const handler = new CommandHandler(store, { now: () => new Date('2026-11-27T10:00:00Z') });
    const [userId, workflowId] = [newId(), newId()];
    const created = await handler.handle(workflowDecider, {
      commandId: newId(),
      userId,
      aggregateId: workflowId,
      command: createHeartbeat(userId, workflowId),
    });
    expect(created.events.map((e) => e.type)).toEqual(['WorkflowCreated', 'WorkflowBuildCompleted']);
    expect(created.version).toBeGreaterThan(0);
    expect(workflowStatus(created.state)).toEqual({ lifecycle: 'active', build: 'COMPLETED' });

    const paused = await handler.handle(workflowDecider, {
      commandId: newId(),
      userId,
      aggregateId: workflowId,
      command: { type: 'PauseWorkflow', data: {} },
    });
    expect(paused.version).toBeGreaterThan(created.version);

    const commits = await store.read(eventSubject(userId, 'workflow', workflowId));
    expect(commits.map((c) => c.events.map((e) => e.type))).toEqual([
      ['WorkflowCreated', 'WorkflowBuildCompleted'],
      ['WorkflowPaused'],
    ]);
    expect(commits[0]!.events[0]).toMatchObject({
      aggregate: 'workflow',
      aggregateId: workflowId,
      userId,
      occurredAt: '2026-11-27T10:00:00.000Z',
    });

    // A fresh handler (no cache) replays the subject to the same state.
    const replayed = await new CommandHandler(store).load(workflowDecider, userId, workflowId);
    expect(replayed.version).toBe(paused.version);
    expect(workflowStatus(replayed.state).lifecycle).toBe('paused');
  });

  it('reads a long subject up to a sequence that is not its own commit: no more, and without waiting', async () => {
    const [userId, ours, theirs] = [newId(), newId(), newId()];
    const handler = new CommandHandler(store);
    const send = (aggregateId: string, command: WorkflowCommand) =>
      handler.handle(workflowDecider, { commandId: newId(), userId, aggregateId, command });
    const toggle = (i: number): WorkflowCommand => ({
      type: i % 2 ? 'ResumeWorkflow' : 'PauseWorkflow',
      data: {},
    });
    await send(ours, createHeartbeat(userId, ours));
    await send(theirs, createHeartbeat(userId, theirs));
    // Past the direct reads (16) a read goes on with a consumer; the two subjects interleave.
    for (let i = 0; i < 15; i++) {
      await send(ours, toggle(i));
      await send(theirs, toggle(i));
    }
    const subject = eventSubject(userId, 'workflow', ours);
    const first16 = (await store.read(subject)).map((c) => c.sequence);
    expect(first16).toHaveLength(16);
    const last = await send(ours, toggle(15));
    // Up to their last commit, which lies between two of ours: our next one is not part of the read.
    const until = (await store.read(eventSubject(userId, 'workflow', theirs))).at(-1)!.sequence;
    expect(until).toBeLessThan(last.version);
    const started = performance.now();
    const upTo = await store.read(subject, 1, until);
    expect(upTo.map((c) => c.sequence)).toEqual(first16);
    // Past our last commit, with nothing of ours after it: complete at once, no 15 s wait.
    expect((await store.read(subject, 1, last.version + 5)).map((c) => c.sequence)).toEqual([
      ...first16,
      last.version,
    ]);
    expect(performance.now() - started).toBeLessThan(5000);
    // Every commit after the first names the one before it (what tells a read that commits left the log).
    expect(upTo.slice(1).map((c) => c.previous)).toEqual(upTo.slice(0, -1).map((c) => c.sequence));
  });

  it('appends a command repeated with the same id once', async () => {
    const handler = new CommandHandler(store);
    const [userId, workflowId, commandId] = [newId(), newId(), newId()];
    const request = {
      commandId,
      userId,
      aggregateId: workflowId,
      command: createHeartbeat(userId, workflowId),
    };
    const first = await handler.handle(workflowDecider, request);
    // Another process (no shared cache) retries the very same command.
    const again = await new CommandHandler(store).handle(workflowDecider, request).then(
      (r) => r.events,
      (e: unknown) => e,
    );
    // Either JetStream drops the duplicate, or the decider refuses to create twice: never two commits.
    if (!(again instanceof Error)) expect(again).toEqual([]);
    const commits = await store.read(eventSubject(userId, 'workflow', workflowId));
    expect(commits).toHaveLength(1);
    expect(commits[0]!.sequence).toBe(first.version);
  });

  it('lets exactly one of two appends at the same expected sequence win', async () => {
    const handler = new CommandHandler(store);
    const [userId, workflowId] = [newId(), newId()];
    const created = await handler.handle(workflowDecider, {
      commandId: newId(),
      userId,
      aggregateId: workflowId,
      command: createHeartbeat(userId, workflowId),
    });
    const subject = eventSubject(userId, 'workflow', workflowId);
    const event = created.events[0]!;
    const results = await Promise.allSettled([
      store.append(subject, [{ ...event, id: newId() }], created.version, newId()),
      store.append(subject, [{ ...event, id: newId() }], created.version, newId()),
    ]);
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
    const rejected = results.find((r) => r.status === 'rejected');
    expect(rejected?.status === 'rejected' && rejected.reason).toBeInstanceOf(ConcurrencyConflict);
  });

  it('fires each tick once when many handlers race on one workflow', async () => {
    const [userId, workflowId] = [newId(), newId()];
    await new CommandHandler(store).handle(workflowDecider, {
      commandId: newId(),
      userId,
      aggregateId: workflowId,
      command: createHeartbeat(userId, workflowId),
    });
    const ticks = Array.from({ length: 10 }, (_, i) => new Date(Date.UTC(2026, 10, 27, 12, i)).toISOString());
    const handlers = Array.from({ length: 4 }, () => new CommandHandler(store));
    // Every handler (a scheduler replica) fires every tick in order, each with its own job id: the
    // replicas race on every tick, and only one job per tick may result.
    await Promise.all(
      handlers.map(async (h) => {
        for (const nominal_at of ticks) {
          await h.handle(workflowDecider, {
            commandId: newId(),
            userId,
            aggregateId: workflowId,
            command: { type: 'FireTick', data: { nominal_at, job_id: newId(), overlap: 'allow' } },
          });
        }
      }),
    );
    const commits = await store.read(eventSubject(userId, 'workflow', workflowId));
    const scheduled = commits.flatMap((c) => c.events).filter((e) => e.type === 'JobScheduled');
    expect(scheduled.map((e) => (e.data as { scheduled_at: string }).scheduled_at).sort()).toEqual(ticks);
  });

  it('lets two processes racing on one workflow fire each tick exactly once', async () => {
    const [userId, workflowId] = [newId(), newId()];
    await new CommandHandler(store).handle(workflowDecider, {
      commandId: newId(),
      userId,
      aggregateId: workflowId,
      command: createHeartbeat(userId, workflowId),
    });
    const startAt = '2026-11-28T00:00:00.000Z';
    const racers = [0, 1].map(() => {
      const child = spawn(
        'node_modules/.bin/node',
        [
          '--import',
          'tsx',
          'test/support/fire-ticks.process.ts',
          server.url,
          userId,
          workflowId,
          '40',
          startAt,
        ],
        { stdio: ['pipe', 'pipe', 'inherit'] },
      );
      let out = '';
      child.stdout.on('data', (b: Buffer) => (out += b));
      const done = new Promise<{ appended: number; unchanged: number; conflicts: number }>(
        (resolve, reject) =>
          child.once('exit', (code) =>
            code === 0 ? resolve(JSON.parse(out)) : reject(new Error(`exit ${code}`)),
          ),
      );
      return { child, done };
    });
    // Give both time to connect, then start them together.
    await new Promise((r) => setTimeout(r, 1500));
    for (const r of racers) r.child.stdin.end('go\n');
    const [a, b] = await Promise.all(racers.map((r) => r.done));

    // Every tick fired once in all: each process either won it or found it already fired.
    expect(a!.appended + b!.appended).toBe(40);
    expect(a!.unchanged + b!.unchanged).toBe(40);
    const commits = await store.read(eventSubject(userId, 'workflow', workflowId));
    const scheduled = commits.flatMap((c) => c.events).filter((e) => e.type === 'JobScheduled');
    expect(scheduled).toHaveLength(40);
    expect(new Set(scheduled.map((e) => (e.data as { scheduled_at: string }).scheduled_at)).size).toBe(40);
  });

  it("never refuses or skips a command because of another process's stale snapshot", async () => {
    const [a, b] = [new CommandHandler(store), new CommandHandler(store)];
    const [userId, workflowId] = [newId(), newId()];
    const send = (h: CommandHandler, command: Parameters<typeof workflowDecider.decide>[0]) =>
      h.handle(workflowDecider, { commandId: newId(), userId, aggregateId: workflowId, command });
    await send(a, createHeartbeat(userId, workflowId));
    await send(a, { type: 'PauseWorkflow', data: {} }); // a now caches "paused"
    await send(b, { type: 'ResumeWorkflow', data: {} }); // b resumes behind a's back
    // On a's stale snapshot, pausing a paused workflow would be refused or do nothing.
    const paused = await send(a, { type: 'PauseWorkflow', data: {} });
    expect(paused.events.map((e) => e.type)).toEqual(['WorkflowPaused']);
    expect(workflowStatus(paused.state).lifecycle).toBe('paused');
  });

  it('after a conflict reads only the commits appended since its snapshot, not the whole subject', async () => {
    const recording = recordingStore();
    const reads = recording.record.reads;
    const watched = new CommandHandler(recording.store);
    const other = new CommandHandler(store);
    const [userId, workflowId] = [newId(), newId()];
    const send = (h: CommandHandler, command: Parameters<typeof workflowDecider.decide>[0]) =>
      h.handle(workflowDecider, { commandId: newId(), userId, aggregateId: workflowId, command });
    await send(watched, createHeartbeat(userId, workflowId));
    for (let i = 0; i < 5; i++) {
      await send(watched, { type: 'PauseWorkflow', data: {} });
      await send(watched, { type: 'ResumeWorkflow', data: {} });
    }
    const before = await watched.load(workflowDecider, userId, workflowId);
    // Behind the watched handler's back: its snapshot ("active") stays true, its version does not.
    await send(other, { type: 'PauseWorkflow', data: {} });
    await send(other, { type: 'ResumeWorkflow', data: {} });
    reads.length = 0;
    const paused = await send(watched, { type: 'PauseWorkflow', data: {} });
    expect(paused.events.map((e) => e.type)).toEqual(['WorkflowPaused']);
    // The append at the stale version conflicted; the reload started after the snapshot.
    expect(reads.length).toBeGreaterThan(0);
    expect(Math.min(...reads)).toBe(before.version + 1);

    // A reactor that needs the state as of a commit it saw gets the cached one without any read.
    reads.length = 0;
    const atLeast = await watched.loadAtLeast(workflowDecider, userId, workflowId, paused.version);
    expect(atLeast.version).toBe(paused.version);
    expect(reads).toEqual([]);
  });

  it('follows the commits of another process it is delivered: the next command neither reads nor conflicts', async () => {
    const recording = recordingStore();
    const reads = recording.record.reads;
    let conflicts = 0;
    const watched = new CommandHandler(recording.store, { onConflict: () => conflicts++ });
    const other = new CommandHandler(store);
    const [userId, workflowId] = [newId(), newId()];
    const send = (h: CommandHandler, command: Parameters<typeof workflowDecider.decide>[0]) =>
      h.handle(workflowDecider, { commandId: newId(), userId, aggregateId: workflowId, command });
    // The commit at `sequence` as a consumer is delivered it (the stored message, headers and all).
    const deliver = async (h: CommandHandler, sequence: number) => {
      const m = await nats.jsm.direct.getMessage(store.stream, { seq: sequence });
      if (!m) throw new Error(`no message ${sequence}`);
      h.observe(observedCommit({ subject: m.subject, seq: m.seq, data: m.data, headers: m.header }));
    };
    // A handler folds commits of the kinds of actor it has been used with (a scheduler: from its start).
    await watched.load(workflowDecider, userId, newId());
    // Another process creates the workflow; its first commit alone gives the watched handler the actor.
    const created = await send(other, createHeartbeat(userId, workflowId));
    await deliver(watched, created.version);
    reads.length = 0;
    expect((await watched.loadAtLeast(workflowDecider, userId, workflowId, created.version)).exists).toBe(
      true,
    );
    expect(reads).toEqual([]);

    const paused = await send(other, { type: 'PauseWorkflow', data: {} });
    await deliver(watched, paused.version);
    reads.length = 0;
    const resumed = await send(watched, { type: 'ResumeWorkflow', data: {} });
    expect(resumed.events.map((e) => e.type)).toEqual(['WorkflowResumed']);
    expect({ reads, conflicts }).toEqual({ reads: [], conflicts: 0 });

    // A commit that does not follow the cached version (one was missed) changes nothing: the next
    // command conflicts, reads what it missed, and still decides on the real state.
    const pausedAgain = await send(other, { type: 'PauseWorkflow', data: {} });
    const resumedAgain = await send(other, { type: 'ResumeWorkflow', data: {} });
    expect(pausedAgain.version).toBeGreaterThan(resumed.version);
    await deliver(watched, resumedAgain.version);
    expect((await watched.loadAtLeast(workflowDecider, userId, workflowId, 0)).version).toBe(resumed.version);
    const final = await send(watched, { type: 'PauseWorkflow', data: {} });
    expect(final.events.map((e) => e.type)).toEqual(['WorkflowPaused']);
    expect(conflicts).toBe(1);
    expect(Math.min(...reads)).toBe(resumed.version + 1);
  });

  it('decides on a primed snapshot without a read, and a stale one costs only a conflict', async () => {
    // Every handler here reads through one recording store: what any of them asked the log for.
    const { store: recorded, record } = recordingStore();
    const reads = record.reads;
    let conflicts = 0;
    const fresh = () => new CommandHandler(recorded, { onConflict: () => conflicts++ });
    const [userId, workflowId] = [newId(), newId()];
    const send = (h: CommandHandler, command: Parameters<typeof workflowDecider.decide>[0]) =>
      h.handle(workflowDecider, { commandId: newId(), userId, aggregateId: workflowId, command });
    const created = await send(new CommandHandler(store), createHeartbeat(userId, workflowId));
    // As a message carries it: plain JSON.
    const carried = JSON.parse(JSON.stringify(snapshotState(created.state)));

    const primed = fresh();
    primed.prime(workflowDecider, userId, workflowId, created.version, carried);
    const paused = await send(primed, { type: 'PauseWorkflow', data: {} });
    expect(paused.events.map((e) => e.type)).toEqual(['WorkflowPaused']);
    expect({ reads, asks: record.lastSequenceRequests, conflicts }).toEqual({
      reads: [],
      asks: 0,
      conflicts: 0,
    });

    // The same snapshot, now stale (the workflow is paused): the resume still decides on the real state.
    const stale = fresh();
    stale.prime(workflowDecider, userId, workflowId, created.version, carried);
    const resumed = await send(stale, { type: 'ResumeWorkflow', data: {} });
    expect(resumed.events.map((e) => e.type)).toEqual(['WorkflowResumed']);
    expect(conflicts).toBe(0); // refused on the primed "active" state, confirmed against the log
    const again = fresh();
    again.prime(workflowDecider, userId, workflowId, created.version, carried);
    reads.length = 0;
    record.lastSequenceRequests = 0;
    await send(again, { type: 'PauseWorkflow', data: {} });
    expect(conflicts).toBe(1); // "active" looked right, the append at the old version conflicted
    // The reload read only what followed the primed version, up to the last sequence the refusal
    // reported (no separate request for it).
    expect({ reads, asks: record.lastSequenceRequests }).toEqual({ reads: [created.version + 1], asks: 0 });

    // Not a snapshot at all: ignored, the command reads as without it.
    const broken = fresh();
    broken.prime(workflowDecider, userId, workflowId, 3, { value: 'nonsense', context: null } as never);
    reads.length = 0;
    expect((await send(broken, { type: 'ResumeWorkflow', data: {} })).events.map((e) => e.type)).toEqual([
      'WorkflowResumed',
    ]);
  });

  it('with assumeNew, creates without a read, and still decides on the real state when the actor exists', async () => {
    const handler = new CommandHandler(store);
    const [userId, workflowId] = [newId(), newId()];
    const created = await handler.handle(workflowDecider, {
      commandId: newId(),
      userId,
      aggregateId: workflowId,
      command: createHeartbeat(userId, workflowId),
      assumeNew: true,
    });
    expect(created.events.map((e) => e.type)).toEqual(['WorkflowCreated', 'WorkflowBuildCompleted']);

    // Another process, which has never seen this actor, wrongly assumes it is new.
    const other = new CommandHandler(store);
    const paused = await other.handle(workflowDecider, {
      commandId: newId(),
      userId,
      aggregateId: workflowId,
      command: { type: 'PauseWorkflow', data: {} },
      assumeNew: true,
    });
    expect(paused.events.map((e) => e.type)).toEqual(['WorkflowPaused']);
    await expect(
      new CommandHandler(store).handle(workflowDecider, {
        commandId: newId(),
        userId,
        aggregateId: workflowId,
        command: createHeartbeat(userId, workflowId),
        assumeNew: true,
      }),
    ).rejects.toMatchObject({ code: 'workflow_already_exists' });
  });
});
