// The API's own ledger of Idempotency-Keys (not a projection): the first request's hash is kept, and
// every request with that key learns it. Insert-if-absent then read, so two racing retries agree.
import type { Db } from './db.ts';

/** Records `requestHash` for (user, key) unless the key has one already; answers the one it has. */
export async function claimRequestHash(
  db: Db,
  userId: string,
  key: string,
  requestHash: string,
): Promise<string> {
  await db
    .insertInto('idempotency_keys')
    .values({ user_id: userId, key, request_hash: requestHash })
    .onConflict((oc) => oc.doNothing())
    .execute();
  const row = await db
    .selectFrom('idempotency_keys')
    .select('request_hash')
    .where('user_id', '=', userId)
    .where('key', '=', key)
    .executeTakeFirstOrThrow();
  return row.request_hash;
}
