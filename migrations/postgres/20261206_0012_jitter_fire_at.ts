// Jitter: a scheduled job may be meant to start after its nominal time (fire_at = nominal + the
// workflow's offset for that tick). Jobs and the tick ledger keep both; null means at the nominal time.
import type { Kysely } from 'kysely';

export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('jobs').addColumn('fire_at', 'timestamptz').execute();
  await db.schema.alterTable('workflow_ticks').addColumn('fire_at', 'timestamptz').execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('workflow_ticks').dropColumn('fire_at').execute();
  await db.schema.alterTable('jobs').dropColumn('fire_at').execute();
}
