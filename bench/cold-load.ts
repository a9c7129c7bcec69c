// Cold load (issue 16): how long a process that has never seen a workflow takes to load it, for a
// young workflow (10 commits) and an old one (full: 1,000,000 commits, a per-second cron's run-nows
// and recorded ends over about three days; small: 20,000), through the real CommandHandler against a
// private nats-server. The old one is loaded three ways: with its snapshot just written (tail 0), with
// a snapshot SNAPSHOT_EVERY - 1 commits behind (the most a process appending alone leaves), and by a
// full replay without snapshots (the cost before snapshots, once). The young one is read whole, with no
// snapshot (the reference the issue names: ten commits). Each timed load uses a new handler,
// so nothing is cached in the process; loads of the young and the old alternate.
import { randomUUID } from 'node:crypto';
import { headers as natsHeaders } from '@nats-io/transport-node';
import { CommandHandler, SNAPSHOT_EVERY } from '../src/actors/command-handler.ts';
import { workflowDecider } from '../src/actors/workflow-decider.ts';
import { toEnvelopes } from '../src/events/envelope.ts';
import { EVENT_TYPES_HEADER, encodeCommit, PREVIOUS_SEQUENCE_HEADER } from '../src/events/event-store.ts';
import { nameBasedUuid } from '../src/events/name-based-id.ts';
import { natsSnapshotStore } from '../src/events/snapshot-bucket.ts';
import { eventSubject } from '../src/events/subjects.ts';
import type { WorkflowCommand } from '../src/events/workflow-events.ts';
import { createHeartbeat } from '../test/support/fixtures.ts';
import type { Benchmark, Progress, Scale } from './support/benchmark.ts';
import { type BenchEnvironment, openBenchEnvironment } from './support/environment.ts';
import { median, round } from './support/stats.ts';

const sizes: Record<Scale, { oldCommits: number; loads: number }> = {
  full: { oldCommits: 1_000_000, loads: 30 },
  small: { oldCommits: 20_000, loads: 15 },
};

/**
 * Appends a workflow's history of `commits` commits (its creation, then run-nows and their recorded
 * ends) decided by the real decider, published pipelined: one commit per message, with the headers an
 * append writes, each expecting the one before it (the stream holds nothing else while it runs).
 */
async function writeHistory(env: BenchEnvironment, commits: number, progress: Progress) {
  const [userId, workflowId] = [randomUUID(), randomUUID()];
  const subject = eventSubject(userId, 'workflow', workflowId);
  const start = Date.UTC(2026, 0, 1);
  let state = workflowDecider.initialState();
  // The stream holds nothing else meanwhile: commit i (from 0) lands at base + 1 + i.
  const base = (await env.nats.jsm.streams.info('CV_EVENTS')).state.last_seq;
  const inFlight: Promise<unknown>[] = [];
  let lastEventId = '';
  for (let i = 0; i < commits; i++) {
    const now = new Date(start + i * 500);
    const command = i === 0 ? createHeartbeat(userId, workflowId) : runOrEnd(workflowId, i - 1, i % 10 === 0);
    const decided = workflowDecider.decideNext(command, i === 0 ? undefined : state, { now });
    state = decided.next;
    const commandId = randomUUID();
    const envelopes = toEnvelopes('workflow', workflowId, userId, decided.events, {
      now,
      newId: randomUUID,
      correlationId: commandId,
      causationId: commandId,
    });
    lastEventId = envelopes.at(-1)?.id ?? '';
    const h = natsHeaders();
    h.set(EVENT_TYPES_HEADER, envelopes.map((e) => e.type).join(','));
    h.set(PREVIOUS_SEQUENCE_HEADER, String(i === 0 ? 0 : base + i));
    inFlight.push(env.nats.js.publish(subject, encodeCommit(envelopes), { headers: h }));
    if (inFlight.length >= 2_000) await Promise.all(inFlight.splice(0));
    if ((i + 1) % 100_000 === 0) progress(`cold_load: ${i + 1} commits written`);
  }
  await Promise.all(inFlight);
  const last = (await env.nats.jsm.streams.info('CV_EVENTS')).state.last_seq;
  if (last !== base + commits)
    throw new Error(`expected the history at ${base + 1}..${base + commits}, the stream ends at ${last}`);
  return { userId, workflowId, subject, lastEventId };
}

/** The n-th command of a busy history: a run-now, then the record of that job's end, and so on. */
function runOrEnd(workflowId: string, n: number, failed: boolean): WorkflowCommand {
  const job_id = nameBasedUuid(`${workflowId}\n${Math.floor(n / 2)}`);
  return n % 2 === 0
    ? { type: 'RunNow', data: { job_id } }
    : { type: 'RecordJobOutcome', data: { job_id, outcome: failed ? 'FAILED' : 'COMPLETED' } };
}

export const coldLoadBenchmark: Benchmark = {
  name: 'cold_load',
  description: 'a workflow loaded by a process that never saw it: 10 commits vs 1,000,000 behind a snapshot',
  async run(scale, progress) {
    const { oldCommits, loads } = sizes[scale];
    const env = await openBenchEnvironment('cold_load', progress);
    try {
      const snapshots = natsSnapshotStore(env.nats.nc);
      const young = await writeHistory(env, 10, progress);
      const t0 = performance.now();
      const old = await writeHistory(env, oldCommits, progress);
      const writeMs = performance.now() - t0;
      progress(`cold_load: ${oldCommits} commits written in ${Math.round(writeMs)} ms`);
      const stream = await env.nats.jsm.streams.info('CV_EVENTS');

      const loadOnce = async (w: { userId: string; workflowId: string }, withSnapshots: boolean) => {
        const handler = new CommandHandler(
          env.events,
          withSnapshots ? { snapshots, snapshotEvery: SNAPSHOT_EVERY } : {},
        );
        const started = performance.now();
        const loaded = await handler.load(workflowDecider, w.userId, w.workflowId);
        return { ms: performance.now() - started, version: loaded.version };
      };

      // The cost before snapshots: a full replay. Its load (folding more than SNAPSHOT_EVERY commits) also
      // writes the snapshot the next loads start from.
      const replay = await loadOnce(old, true);
      progress(`cold_load: full replay of ${oldCommits} commits in ${Math.round(replay.ms)} ms`);
      const snapshotVersion = await waitForSnapshot(() => snapshots.get(old.subject), replay.version);

      const alternate = async (label: string) => {
        const [youngMs, oldMs]: [number[], number[]] = [[], []];
        for (let i = 0; i < loads; i++) {
          youngMs.push((await loadOnce(young, false)).ms);
          oldMs.push((await loadOnce(old, true)).ms);
        }
        progress(`cold_load: ${label}: young ${round(median(youngMs))} ms, old ${round(median(oldMs))} ms`);
        return {
          young_median_ms: round(median(youngMs), 3),
          old_median_ms: round(median(oldMs), 3),
          ratio_old_to_young: round(median(oldMs) / median(youngMs), 2),
        };
      };
      const tail0 = await alternate('snapshot at the last commit');

      // SNAPSHOT_EVERY - 1 commits more, by a writer without snapshots: the most a lone appender leaves.
      // It starts from the snapshot but writes none (a huge interval), so the tail stays unsnapshotted.
      const writer = new CommandHandler(env.events, { snapshots, snapshotEvery: Number.MAX_SAFE_INTEGER });
      for (let i = 0; i < SNAPSHOT_EVERY - 1; i++) {
        const command = runOrEnd(old.workflowId, oldCommits + i, false);
        await writer.handle(workflowDecider, {
          commandId: randomUUID(),
          userId: old.userId,
          aggregateId: old.workflowId,
          command,
        });
      }
      const tail99 = await alternate(`snapshot ${SNAPSHOT_EVERY - 1} commits behind`);
      const oldVersion = (await loadOnce(old, false)).version;
      return {
        old_commits: oldCommits,
        young_commits: 10,
        snapshot_every: SNAPSHOT_EVERY,
        stream_bytes: stream.state.bytes,
        write_ms: Math.round(writeMs),
        full_replay_ms: Math.round(replay.ms),
        snapshot_version: snapshotVersion,
        old_version_after_tail: oldVersion,
        loads_per_case: loads,
        snapshot_at_last_commit: tail0,
        snapshot_most_commits_behind: tail99,
        most_commits_behind: SNAPSHOT_EVERY - 1,
      };
    } finally {
      await env.dispose();
    }
  },
};

async function waitForSnapshot(
  read: () => Promise<{ version: number } | undefined>,
  version: number,
): Promise<number> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    const stored = await read();
    if (stored && stored.version === version) return stored.version;
    if (Date.now() > deadline) throw new Error(`no snapshot at version ${version} within 30 s`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
