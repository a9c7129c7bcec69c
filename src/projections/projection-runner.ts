// Runs one projection: reads CV_EVENTS from its checkpoint + 1 with an ordered consumer and applies
// commits in batches, each batch with its checkpoint in one Postgres transaction. The checkpoint in
// Postgres is the only position: a process killed at any instant resumes exactly after the last
// committed batch, and a commit seen twice is skipped. Only one writer per projection at a time
// (an advisory transaction lock), so replicas and rebuilds can run side by side safely.
import { DeliverPolicy, type JsMsg } from '@nats-io/jetstream';
import type { Kysely } from 'kysely';
import { decodeCommit, type StoredCommit } from '../events/event-store.ts';
import { orderedFilter } from '../events/filter-subjects.ts';
import { streamNames } from '../events/stream-definitions.ts';
import type { Database } from '../infra/database.ts';
import type { Nats } from '../infra/nats-connection.ts';
import type { Logger } from '../telemetry/logger.ts';
import { lockProjection, readCheckpoint, writeCheckpoint } from './checkpoint.ts';
import type { Projection } from './projection.ts';

export interface ProjectionDeps {
  readonly nats: Nats;
  readonly db: Kysely<Database>;
  readonly log: Logger;
}

export interface RunnerOptions {
  readonly batchSize?: number;
}

function toCommits(messages: readonly JsMsg[], log: Logger): StoredCommit[] {
  const commits: StoredCommit[] = [];
  for (const m of messages) {
    try {
      commits.push({ sequence: m.seq, subject: m.subject, events: decodeCommit(m.data) });
    } catch (err) {
      // A commit this code cannot read cannot be projected; say so loudly and keep the others moving.
      log.error('unreadable commit skipped', { sequence: m.seq, subject: m.subject, error: err });
    }
  }
  return commits;
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

export class ProjectionRunner {
  private stopping = false;
  private loop: Promise<void> | undefined;
  private stopConsumer: (() => void) | undefined;
  private applied = 0;
  private lastBatchAt = 0;
  private readonly waiters: { sequence: number; resolve: () => void }[] = [];
  private readonly batchSize: number;

  constructor(
    private readonly deps: ProjectionDeps,
    readonly projection: Projection,
    options: RunnerOptions = {},
  ) {
    this.batchSize = options.batchSize ?? 1000;
  }

  /** The last sequence this runner has committed. */
  get position(): number {
    return this.applied;
  }

  async start(): Promise<void> {
    const { db, log } = this.deps;
    const row = await db
      .selectFrom('projection_checkpoints')
      .select(['version', 'last_sequence'])
      .where('projection', '=', this.projection.name)
      .executeTakeFirst();
    if (row && row.version !== this.projection.version) {
      log.warn('projection version changed: rebuilding from the log', {
        projection: this.projection.name,
        from: row.version,
        to: this.projection.version,
      });
      await rebuildProjection(this.deps, this.projection);
    }
    this.applied = await readCheckpoint(db, this.projection.name);
    this.loop = this.run();
  }

  private async run(): Promise<void> {
    const { nats, db, log } = this.deps;
    while (!this.stopping) {
      try {
        const consumer = await nats.js.consumers.get(streamNames.events, {
          filter_subjects: orderedFilter(this.projection.subjects),
          deliver_policy: DeliverPolicy.StartSequence,
          opt_start_seq: this.applied + 1,
        });
        const messages = await consumer.consume({ max_messages: this.batchSize * 2 });
        this.stopConsumer = () => messages.stop();
        await this.applyAsDelivered(messages);
      } catch (err) {
        if (this.stopping) break;
        log.error('projection consumer failed; restarting from the checkpoint', {
          projection: this.projection.name,
          error: err,
        });
        await sleep(1000);
        this.applied = await readCheckpoint(db, this.projection.name).catch(() => this.applied);
      }
    }
  }

  /**
   * Applies commits as they arrive, each batch everything delivered meanwhile (up to batchSize), and
   * a batch no sooner than minBatchIntervalMs after the previous one began. Delivery runs on its own
   * so that commits keep arriving while a batch is applied or waits out the interval; it pauses while
   * a full batch is waiting. Returns when the consumer ends (stop), throws if it failed.
   */
  private async applyAsDelivered(messages: AsyncIterable<JsMsg>): Promise<void> {
    const interval = this.projection.minBatchIntervalMs ?? 0;
    const buffer: JsMsg[] = [];
    let arrived: (() => void) | undefined;
    let drained: (() => void) | undefined;
    let ended = false;
    let failure: unknown;
    const delivery = (async () => {
      try {
        for await (const m of messages) {
          buffer.push(m);
          arrived?.();
          while (buffer.length >= this.batchSize && !this.stopping) {
            await new Promise<void>((r) => {
              drained = r;
            });
          }
          if (this.stopping) break;
        }
      } catch (err) {
        failure = err;
      } finally {
        ended = true;
        arrived?.();
      }
    })();
    try {
      while (!this.stopping) {
        if (buffer.length === 0) {
          if (ended) break;
          await new Promise<void>((r) => {
            arrived = r;
          });
          arrived = undefined;
          continue;
        }
        const wait = this.lastBatchAt + interval - Date.now();
        if (wait > 0 && buffer.length < this.batchSize && !ended) await sleep(wait);
        const batch = buffer.splice(0, this.batchSize);
        drained?.();
        drained = undefined;
        this.lastBatchAt = Date.now();
        await this.applyWithRetry(toCommits(batch, this.deps.log), batch[batch.length - 1]!.seq);
      }
    } finally {
      // A stop while delivery waits for room must not leave it waiting.
      drained?.();
    }
    await delivery;
    if (failure !== undefined && !this.stopping) throw failure;
  }

  private async applyWithRetry(commits: readonly StoredCommit[], last: number): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      try {
        this.applied = await applyBatch(this.deps.db, this.projection, commits, last);
        this.notifyWaiters();
        return;
      } catch (err) {
        // Nothing was committed: a stopping runner leaves the batch to the next start.
        if (this.stopping) return;
        this.deps.log.error('projection batch failed; retrying', {
          projection: this.projection.name,
          attempt,
          error: err,
        });
        await sleep(Math.min(5000, 100 * 2 ** attempt));
      }
    }
  }

  private notifyWaiters(): void {
    for (let i = this.waiters.length - 1; i >= 0; i--) {
      const w = this.waiters[i]!;
      if (w.sequence <= this.applied) {
        this.waiters.splice(i, 1);
        w.resolve();
      }
    }
  }

  /** Resolves once every commit up to `sequence` of the stream is applied. */
  waitFor(sequence: number): Promise<void> {
    if (sequence <= this.applied) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push({ sequence, resolve }));
  }

  async stop(): Promise<void> {
    this.stopping = true;
    this.stopConsumer?.();
    await this.loop;
  }
}

/**
 * Drops the projection's rows and replays the whole log into them, in one transaction: readers see
 * the old rows until the new ones are complete, and the live runner waits on the lock meanwhile.
 */
export async function rebuildProjection(
  deps: ProjectionDeps,
  projection: Projection,
  batchSize = 2000,
): Promise<number> {
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

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
