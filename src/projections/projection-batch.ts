// Applying commits to a projection: one batch with its checkpoint in one Postgres transaction, and a
// full rebuild from the log. The checkpoint in Postgres is the only position: a process killed at any
// instant resumes exactly after the last committed batch, and a commit seen twice is skipped. Only
// one writer per projection at a time (an advisory transaction lock), so replicas and rebuilds can
// run side by side safely.
import { DeliverPolicy, type JsMsg } from '@nats-io/jetstream';
import type { Kysely } from 'kysely';
import { decodeCommit, type StoredCommit } from '../events/event-store.ts';
import { orderedFilter } from '../events/filter-subjects.ts';
import { streamNames } from '../events/stream-definitions.ts';
import { subjectMatches } from '../events/subjects.ts';
import type { Database } from '../infra/database.ts';
import type { Nats } from '../infra/nats-connection.ts';
import type { Logger } from '../telemetry/logger.ts';
import { withSpan } from '../telemetry/tracing.ts';
import { lockProjection, readCheckpoint, writeCheckpoint } from './checkpoint.ts';
import type { EventArchive } from './event-archive.ts';
import type { Projection } from './projection.ts';
import { lockArchiveShared } from './retention-sweep.ts';

export interface ProjectionDeps {
  readonly nats: Nats;
  readonly db: Kysely<Database>;
  readonly log: Logger;
  /**
   * Where the retention sweep moved finished jobs' commits (src/projections/retention-sweep.ts): a
   * rebuild replays it with the log. Absent only where nothing is ever archived (tests of one part).
   */
  readonly archive?: EventArchive;
}

/** A delivered commit, decoded; `null` (said loudly) when this code cannot read it. */
export function readCommit(m: JsMsg, log: Logger): StoredCommit | null {
  try {
    return { sequence: m.seq, subject: m.subject, events: decodeCommit(m.data) };
  } catch (err) {
    // A commit this code cannot read cannot be projected; say so and keep the others moving.
    log.error('unreadable commit skipped', { sequence: m.seq, subject: m.subject, error: err });
    return null;
  }
}

/** Applies commits newer than the checkpoint, and moves the checkpoint, in one transaction. */
export async function applyBatch(
  db: Kysely<Database>,
  projection: Projection,
  commits: readonly StoredCommit[],
  lastSequence: number,
): Promise<number> {
  return db.transaction().execute(async (tx) => {
    await lockProjection(tx, projection.name);
    const checkpoint = await readCheckpoint(tx, projection.name);
    if (lastSequence <= checkpoint) return checkpoint;
    const fresh = commits.filter((c) => c.sequence > checkpoint);
    if (fresh.length) await projection.applyBatch(tx, fresh);
    await writeCheckpoint(tx, projection.name, projection.version, lastSequence);
    return lastSequence;
  });
}

/**
 * Drops the projection's rows and replays the whole log into them, in one transaction: readers see
 * the old rows until the new ones are complete, and the live runner waits on the lock meanwhile.
 */
export function rebuildProjection(
  deps: ProjectionDeps,
  projection: Projection,
  batchSize = 2000,
): Promise<number> {
  // A trace of its own: the contexts stored on the replayed commits are never a parent (nor a link).
  return withSpan(
    `rebuild ${projection.name}`,
    { root: true, attributes: { 'chronoverse.projection.name': projection.name } },
    () => rebuild(deps, projection, batchSize),
  );
}

async function rebuild(deps: ProjectionDeps, projection: Projection, batchSize: number): Promise<number> {
  const { nats, db, log, archive } = deps;
  return db.transaction().execute(async (tx) => {
    await lockProjection(tx, projection.name);
    // Archive and log are one history only while no sweep moves commits from one to the other.
    if (archive) await lockArchiveShared(tx);
    const info = await nats.jsm.streams.info(streamNames.events);
    const until = info.state.last_seq;
    await projection.reset(tx);
    const archived = archive ? archivedCommits(archive, projection) : undefined;
    let last = 0;
    try {
      let nextArchived = await archived?.next();
      let batch: StoredCommit[] = [];
      const add = async (commit: StoredCommit | null, sequence: number) => {
        if (commit) batch.push(commit);
        last = sequence;
        if (batch.length >= batchSize) {
          await projection.applyBatch(tx, batch);
          batch = [];
        }
      };
      // The archive's commits go in among the log's by stream sequence: one history, in log order. A
      // commit in both (a sweep stopped between archiving and purging) is applied once, from the log.
      const addArchivedBefore = async (sequence: number) => {
        while (nextArchived && !nextArchived.done && nextArchived.value.sequence <= sequence) {
          const commit = nextArchived.value;
          if (commit.sequence < sequence && commit.sequence > last) await add(commit, commit.sequence);
          nextArchived = await archived!.next();
        }
      };
      if (until > 0 && info.state.messages > 0) {
        const consumer = await nats.js.consumers.get(streamNames.events, {
          filter_subjects: orderedFilter(projection.subjects),
          deliver_policy: DeliverPolicy.All,
        });
        const messages = await consumer.consume({ max_messages: batchSize * 2 });
        for await (const m of messages) {
          await addArchivedBefore(m.seq);
          await add(readCommit(m, log), m.seq);
          if (m.seq >= until || m.info.pending === 0) break;
        }
        messages.stop();
      }
      await addArchivedBefore(Number.POSITIVE_INFINITY);
      if (batch.length) await projection.applyBatch(tx, batch);
    } finally {
      // A rebuild that failed halfway leaves no read of the archive open.
      await archived?.return(undefined);
    }
    const position = Math.max(last, until);
    await writeCheckpoint(tx, projection.name, projection.version, position);
    return position;
  });
}

/** The archive's commits a projection reads, oldest first. */
async function* archivedCommits(archive: EventArchive, projection: Projection): AsyncGenerator<StoredCommit> {
  for await (const commit of archive.all()) {
    if (projection.subjects.some((filter) => subjectMatches(filter, commit.subject))) yield commit;
  }
}
