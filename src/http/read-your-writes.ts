// A mutation answers once the read model has caught up with it, so the client's next GET sees its
// own write. Bounded: past the deadline the answer goes out anyway (the write is in the log).
import type { Kysely } from 'kysely';
import type { Database } from '../infra/database.ts';
import { readCheckpoint } from '../projections/checkpoint.ts';

export async function waitForReadModel(
  db: Kysely<Database>,
  sequence: number,
  timeoutMs = 5000,
): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  let pause = 5;
  while (Date.now() < deadline) {
    if ((await readCheckpoint(db, 'read_models')) >= sequence) return true;
    await new Promise((r) => setTimeout(r, pause));
    pause = Math.min(50, pause * 2);
  }
  return false;
}

/**
 * Waits (bounded) until the job's row exists. A run-now appends JobScheduled on the workflow; the job
 * itself is created by a reactor right after, so the read model reaching the run-now's sequence does
 * not yet mean the job can be read. A client that follows the 201 to the job or its log tail expects
 * to find it.
 */
export async function waitForJobRow(
  db: Kysely<Database>,
  userId: string,
  jobId: string,
  timeoutMs = 5000,
): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  let pause = 5;
  while (Date.now() < deadline) {
    const row = await db
      .selectFrom('jobs')
      .select('id')
      .where('id', '=', jobId)
      .where('user_id', '=', userId)
      .executeTakeFirst();
    if (row) return true;
    await new Promise((r) => setTimeout(r, pause));
    pause = Math.min(50, pause * 2);
  }
  return false;
}
