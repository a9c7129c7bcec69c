// A mutation answers once the read model has caught up with it, so the client's next GET sees its
// own write. Bounded: past the deadline the answer goes out anyway (the write is in the log).
import type { Kysely } from 'kysely';
import type { Database } from '../infra/database.ts';
import { readCheckpoint } from '../projections/checkpoint.ts';

/** Polls `done` with a growing pause (5 → 50 ms) until it holds or `timeoutMs` has passed. */
async function pollUntil(done: () => Promise<boolean>, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  let pause = 5;
  while (Date.now() < deadline) {
    if (await done()) return true;
    await new Promise((r) => setTimeout(r, pause));
    pause = Math.min(50, pause * 2);
  }
  return false;
}

export function waitForReadModel(db: Kysely<Database>, sequence: number, timeoutMs = 5000): Promise<boolean> {
  return pollUntil(async () => (await readCheckpoint(db, 'read_models')) >= sequence, timeoutMs);
}

/**
 * Waits (bounded) until the job's row exists. A run-now appends JobScheduled on the workflow; the job
 * itself is created by a reactor right after, so the read model reaching the run-now's sequence does
 * not yet mean the job can be read. A client that follows the 201 to the job or its log tail expects
 * to find it. (Its row implies the read model is past the run-now: JobCreated follows JobScheduled.)
 */
export function waitForJobRow(
  db: Kysely<Database>,
  userId: string,
  jobId: string,
  timeoutMs = 5000,
): Promise<boolean> {
  return pollUntil(
    async () =>
      (await db
        .selectFrom('jobs')
        .select('id')
        .where('id', '=', jobId)
        .where('user_id', '=', userId)
        .executeTakeFirst()) !== undefined,
    timeoutMs,
  );
}
