// The delivery log is kept for WEBHOOK_LOG_DAYS: older deliveries that are done with (delivered or
// given up) are deleted; pending ones stay whatever their age (the max age gives them up first), unless
// their subscription is gone.
import type { Kysely } from 'kysely';
import type { Database } from '../infra/database.ts';

export const WEBHOOK_LOG_DAYS = 30;

/** Deletes finished deliveries recorded before `now - WEBHOOK_LOG_DAYS`, and those of no subscription; how many went. */
export async function pruneWebhookDeliveries(db: Kysely<Database>, now: Date): Promise<number> {
  const before = new Date(now.getTime() - WEBHOOK_LOG_DAYS * 86_400_000);
  const result = await db
    .deleteFrom('webhook_deliveries')
    .where('status', '!=', 'pending')
    .where('created_at', '<', before)
    .executeTakeFirst();
  // A subscription deleted just as the intake recorded an event for it leaves that row behind.
  const orphans = await db
    .deleteFrom('webhook_deliveries')
    .where(({ not, exists, selectFrom }) =>
      not(
        exists(
          selectFrom('webhooks')
            .select('webhooks.id')
            .whereRef('webhooks.id', '=', 'webhook_deliveries.webhook_id'),
        ),
      ),
    )
    .executeTakeFirst();
  return Number(result.numDeletedRows) + Number(orphans.numDeletedRows);
}
