// A projection's position in the event stream, read and written inside the projection's own
// transaction so rows and position commit together.
import { type Kysely, sql, type Transaction } from 'kysely';
import type { Database } from '../infra/database.ts';

export async function readCheckpoint(
  db: Kysely<Database> | Transaction<Database>,
  projection: string,
): Promise<number> {
  const row = await db
    .selectFrom('projection_checkpoints')
    .select('last_sequence')
    .where('projection', '=', projection)
    .executeTakeFirst();
  return row?.last_sequence ?? 0;
}

export async function writeCheckpoint(
  tx: Transaction<Database>,
  projection: string,
  version: number,
  lastSequence: number,
): Promise<void> {
  await tx
    .insertInto('projection_checkpoints')
    .values({ projection, version, last_sequence: lastSequence })
    .onConflict((oc) =>
      oc.column('projection').doUpdateSet({ version, last_sequence: lastSequence, updated_at: sql`now()` }),
    )
    .execute();
}

/**
 * Serialises every writer of one projection (the live projector, a rebuild, a second replica) for
 * the length of a transaction.
 */
export async function lockProjection(tx: Transaction<Database>, projection: string): Promise<void> {
  await sql`select pg_advisory_xact_lock(hashtext(${`projection:${projection}`}))`.execute(tx);
}
