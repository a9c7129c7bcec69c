// A mutation answers once the read model has caught up with it, so the client's next GET sees its
// own write. Bounded: past the deadline the answer goes out anyway (the write is in the log). So
// does it when PostgreSQL is down: the command was appended, and answering 503 would tell the client
// to send it again (a run-now without an Idempotency-Key would then run twice).
import { storeOutage } from '../infra/store-outage.ts';
import type { Db } from './db.ts';

/**
 * How a wait asks the projector to apply sooner: under a steady stream it gathers commits for a while
 * between batches (cheaper), and a client waiting for its write would wait that long too.
 */
export interface ReadModelWait {
  readonly timeoutMs?: number;
  /** Called once if the first look does not find the write (src/projections/projection-runner.ts). */
  readonly hurry?: () => void;
}

/**
 * Polls `done` with a growing pause (5 → 50 ms) until it holds or `timeoutMs` has passed; false at
 * once when the read side is down.
 */
async function pollUntil(done: () => Promise<boolean>, wait: ReadModelWait): Promise<boolean> {
  const deadline = Date.now() + (wait.timeoutMs ?? 5000);
  let pause = 5;
  for (let first = true; Date.now() < deadline; first = false) {
    try {
      if (await done()) return true;
    } catch (err) {
      if (storeOutage(err)) return false;
      throw err;
    }
    if (first) wait.hurry?.();
    await new Promise((r) => setTimeout(r, pause));
    pause = Math.min(50, pause * 2);
  }
  return false;
}

/** The position of the read models in the event stream: the last commit they hold. */
export async function readModelPosition(db: Db): Promise<number> {
  const row = await db
    .selectFrom('projection_checkpoints')
    .select('last_sequence')
    .where('projection', '=', 'read_models')
    .executeTakeFirst();
  return row?.last_sequence ?? 0;
}

export function waitForReadModel(db: Db, sequence: number, wait: ReadModelWait = {}): Promise<boolean> {
  return pollUntil(async () => (await readModelPosition(db)) >= sequence, wait);
}

/**
 * Waits (bounded) until the job's row exists. A run-now appends JobScheduled on the workflow; the job
 * itself is created by a reactor right after, so the read model reaching the run-now's sequence does
 * not yet mean the job can be read. A client that follows the 201 to the job or its log tail expects
 * to find it. (Its row implies the read model is past the run-now: JobCreated follows JobScheduled.)
 */
export function waitForJobRow(
  db: Db,
  userId: string,
  jobId: string,
  wait: ReadModelWait = {},
): Promise<boolean> {
  return pollUntil(
    async () =>
      (await db
        .selectFrom('jobs')
        .select('id')
        .where('id', '=', jobId)
        .where('user_id', '=', userId)
        .executeTakeFirst()) !== undefined,
    wait,
  );
}
