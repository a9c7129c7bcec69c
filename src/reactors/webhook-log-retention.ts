// The delivery log is kept for WEBHOOK_LOG_DAYS: older deliveries that are done with (delivered or
// given up) are deleted; pending ones stay whatever their age (the max age gives them up first).
import type { Kysely } from 'kysely';
import type { Database } from '../infra/database.ts';

export const WEBHOOK_LOG_DAYS = 30;

/** Deletes finished deliveries recorded before `now - WEBHOOK_LOG_DAYS`; how many went. */
export async function pruneWebhookDeliveries(db: Kysely<Database>, now: Date): Promise<number> {
  const before = new Date(now.getTime() - WEBHOOK_LOG_DAYS * 86_400_000);
  const result = await db
    .deleteFrom('webhook_deliveries')
    .where('status', '!=', 'pending')
    .where('created_at', '<', before)
    .executeTakeFirst();
  return Number(result.numDeletedRows);
}
