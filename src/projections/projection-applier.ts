// Applies one projection's commits as they are offered, in batches: each batch everything offered
// meanwhile (up to batchSize), no sooner than the projection's minBatchIntervalMs after the previous
// one began, and a batch too small to be worth its transaction no sooner than its batchIntervalMs
// unless a reader waits; each with its checkpoint in one Postgres transaction.
// Reading the log is the runner's job (one consumer for several projections); this is the part that
// differs per projection.
import { setTimeout as delay } from 'node:timers/promises';
import type { SpanContext } from '@opentelemetry/api';
import type { StoredCommit } from '../events/event-store.ts';
import { processBatch } from '../telemetry/messaging.ts';
import { readCheckpoint } from './checkpoint.ts';
import type { Projection } from './projection.ts';
import { applyBatch, type ProjectionDeps, rebuildProjection } from './projection-batch.ts';

/** A commit as offered: `null` when it could not be read (it still moves the checkpoint). */
export interface OfferedCommit {
  readonly sequence: number;
  readonly commit: StoredCommit | null;
  /** The trace context its message carried (the PRODUCER span of its append), when traced. */
  readonly link?: SpanContext | undefined;
}

/** The most links a batch span keeps (the SDK's default limit). */
const MAX_LINKS = 128;

/** How long one hurry lasts: a waiting reader's write is in a batch well within it. */
const HURRY_MS = 1000;

export class ProjectionApplier {
  /** The last sequence committed to Postgres. */
  applied = 0;
  /** The last sequence offered: the runner offers each commit once, in log order. */
  offered = 0;
  private readonly buffer: OfferedCommit[] = [];
  private lastBatchAt = 0;
  private arrived: (() => void) | undefined;
  /** Until when batches come at the minimum interval (epoch ms). */
  private hurriedUntil = 0;
  /** Ends the interval's wait now (a hurry came, enough commits, a stop); set while it runs. */
  private endWait: (() => void) | undefined;
  private roomWaiters: (() => void)[] = [];
  /** Aborted by stop(): ends the loop and cuts short any sleep. */
  private readonly stopped = new AbortController();
  private loop: Promise<void> | undefined;

  constructor(
    private readonly deps: ProjectionDeps,
    readonly projection: Projection,
    private readonly batchSize: number,
    /** Offered but not yet applied, beyond which the runner stops reading. */
    private readonly maxBuffered: number,
    /** Told after every committed batch. */
    private readonly onApplied: () => void = () => {},
  ) {}

  /**
   * Rebuilds the projection if its version changed (or it is new and part of the log is archived), reads
   * its checkpoint, and starts applying.
   */
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
    } else if (!row && (await this.deps.archive?.holdsAny())) {
      // A projection new to a log part of which is archived: read from the log's start, it would never
      // see the archived commits.
      log.warn('new projection: building it from the archive and the log', {
        projection: this.projection.name,
      });
      await rebuildProjection(this.deps, this.projection);
    }
    this.applied = await readCheckpoint(db, this.projection.name);
    this.offered = this.applied;
    this.loop = this.run();
  }

  offer(offered: OfferedCommit): void {
    if (offered.sequence <= this.offered) return;
    this.offered = offered.sequence;
    this.buffer.push(offered);
    this.arrived?.();
    // Enough gathered: a small batch's longer wait is over.
    if (this.endWait && this.worthwhile()) this.endWait();
  }

  get full(): boolean {
    return this.buffer.length >= this.maxBuffered;
  }

  /** Resolves once the buffer has room again (at once when it has). */
  whenRoom(): Promise<void> {
    if (!this.full || this.stopping) return Promise.resolve();
    return new Promise((r) => this.roomWaiters.push(r));
  }

  /**
   * Someone waits for a write to reach this projection: for the next HURRY_MS, batches no longer
   * gather for batchIntervalMs, only for minBatchIntervalMs. Cheap to call often.
   */
  hurry(): void {
    this.hurriedUntil = Date.now() + HURRY_MS;
    this.endWait?.();
  }

  /** The least time between the starts of two batches, now. */
  private interval(): number {
    const least = this.projection.minBatchIntervalMs ?? 0;
    if (this.worthwhile() || Date.now() < this.hurriedUntil) return least;
    return Math.max(least, this.projection.batchIntervalMs ?? least);
  }

  private worthwhile(): boolean {
    return this.buffer.length >= (this.projection.worthwhileBatch ?? Number.POSITIVE_INFINITY);
  }

  private async run(): Promise<void> {
    while (!this.stopping) {
      if (this.buffer.length === 0) {
        await new Promise<void>((r) => {
          this.arrived = r;
        });
        this.arrived = undefined;
        continue;
      }
      // A hurry during the wait shortens it: the interval is looked at again.
      for (
        let wait = this.lastBatchAt + this.interval() - Date.now();
        wait > 0 && this.buffer.length < this.batchSize && !this.stopping;
        wait = this.lastBatchAt + this.interval() - Date.now()
      ) {
        await this.sleepUnlessHurried(wait);
      }
      if (this.stopping) break;
      const batch = this.buffer.splice(0, this.batchSize);
      this.releaseRoom();
      this.lastBatchAt = Date.now();
      const commits = batch.flatMap((b) => (b.commit ? [b.commit] : []));
      // A CONSUMER span per batch, in a trace of its own, linked to the appends it applies: a batch
      // mixes commits of many traces, so it is the child of none of them.
      const links: SpanContext[] = [];
      for (const b of batch) if (b.link && links.length < MAX_LINKS) links.push(b.link);
      await processBatch(
        { template: 'cv.evt.>', consumer: this.projection.name, count: batch.length, links },
        () => this.applyWithRetry(commits, batch[batch.length - 1]!.sequence),
      );
    }
  }

  private get stopping(): boolean {
    return this.stopped.signal.aborted;
  }

  private releaseRoom(): void {
    if (this.full) return;
    const waiting = this.roomWaiters;
    this.roomWaiters = [];
    for (const r of waiting) r();
  }

  /** Sleeps, cut short by a stop (an arrival does not: the interval is the point). */
  private sleep(ms: number): Promise<void> {
    return delay(ms, undefined, { signal: this.stopped.signal }).catch(() => {});
  }

  /** Sleeps, cut short by a hurry or a stop (which wakes it the same way). */
  private sleepUnlessHurried(ms: number): Promise<void> {
    return new Promise<void>((resolve) => {
      const wake = () => {
        clearTimeout(timer);
        this.endWait = undefined;
        resolve();
      };
      const timer = setTimeout(wake, ms);
      this.endWait = wake;
    });
  }

  private async applyWithRetry(commits: readonly StoredCommit[], last: number): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      try {
        this.applied = await applyBatch(this.deps.db, this.projection, commits, last);
        this.onApplied();
        return;
      } catch (err) {
        // Nothing was committed: a stopping applier leaves the batch to the next start.
        if (this.stopping) return;
        this.deps.log.error('projection batch failed; retrying', {
          projection: this.projection.name,
          attempt,
          error: err,
        });
        await this.sleep(Math.min(5000, 100 * 2 ** attempt));
      }
    }
  }

  /** Ends after the batch being applied commits (or fails); what is only offered is left to the next start. */
  async stop(): Promise<void> {
    this.stopped.abort();
    this.arrived?.();
    this.endWait?.();
    for (const r of this.roomWaiters.splice(0)) r();
    await this.loop;
  }
}
