// How many times a pause withdrew ticks a workflow had decided ahead (each moves its ledger back):
// the scheduler compares it with what it saw last, to take the ledger's position even when it never
// saw the workflow paused. Existing rows get 0, which is what their events mean (no withdrawal existed).
import type { Kysely } from 'kysely';

export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .alterTable('workflows')
    .addColumn('tick_withdrawals', 'integer', (c) => c.notNull().defaultTo(0))
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('workflows').dropColumn('tick_withdrawals').execute();
}
