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
import type { Database } from '../infra/database.ts';
import type { Nats } from '../infra/nats-connection.ts';
import type { Logger } from '../telemetry/logger.ts';
import { withSpan } from '../telemetry/tracing.ts';
import { lockProjection, readCheckpoint, writeCheckpoint } from './checkpoint.ts';
import type { Projection } from './projection.ts';

export interface ProjectionDeps {
  readonly nats: Nats;
  readonly db: Kysely<Database>;
  readonly log: Logger;
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

function toCommits(messages: readonly JsMsg[], log: Logger): StoredCommit[] {
  return messages.flatMap((m) => readCommit(m, log) ?? []);
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
  const { nats, db, log } = deps;
  const info = await nats.jsm.streams.info(streamNames.events);
  const until = info.state.last_seq;
  return db.transaction().execute(async (tx) => {
    await lockProjection(tx, projection.name);
    await projection.reset(tx);
    let last = 0;
    if (until > 0 && info.state.messages > 0) {
      const consumer = await nats.js.consumers.get(streamNames.events, {
        filter_subjects: orderedFilter(projection.subjects),
        deliver_policy: DeliverPolicy.All,
      });
      const messages = await consumer.consume({ max_messages: batchSize * 2 });
      let batch: JsMsg[] = [];
      for await (const m of messages) {
        batch.push(m);
        const done = m.seq >= until || m.info.pending === 0;
        if (batch.length >= batchSize || done) {
          await projection.applyBatch(tx, toCommits(batch, log));
          last = batch[batch.length - 1]!.seq;
          batch = [];
        }
        if (done) break;
      }
      messages.stop();
    }
    await writeCheckpoint(tx, projection.name, projection.version, Math.max(last, until));
    return Math.max(last, until);
  });
}
