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
