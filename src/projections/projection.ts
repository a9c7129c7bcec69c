// What a projection is: a name, a version, the events it reads, and how it applies a batch of
// commits inside a Postgres transaction (and how it wipes its rows for a rebuild).
import type { Transaction } from 'kysely';
import type { StoredCommit } from '../events/event-store.ts';
import type { Database } from '../infra/database.ts';

export interface Projection {
  readonly name: string;
  /** Bump when the projection's logic changes: the runner then rebuilds it from the log. */
  readonly version: number;
  /** JetStream filter subjects of CV_EVENTS it reads. */
  readonly subjects: readonly string[];
  /**
   * The least time between the starts of two batches (default 0). A commit arriving after a quiet
   * spell is applied at once; under a steady stream commits gather for up to this long, so a store
   * sees a few big writes a second instead of one small transaction per commit or two.
   */
  readonly minBatchIntervalMs?: number;
  /**
   * How long a small batch gathers (default: minBatchIntervalMs): one of fewer than
   * `worthwhileBatch` commits, while nobody waits for it. A reader that waits for the projection to
   * hold a write hurries it (ProjectionRunner.hurry): for a second the batches come again as often as
   * minBatchIntervalMs allows.
   */
  readonly batchIntervalMs?: number;
  /** Commits that make a batch worth its transaction: with as many, it goes after minBatchIntervalMs. */
  readonly worthwhileBatch?: number;
  applyBatch(tx: Transaction<Database>, commits: readonly StoredCommit[]): Promise<void>;
  reset(tx: Transaction<Database>): Promise<void>;
}
