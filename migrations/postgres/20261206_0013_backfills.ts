// Backfills: one row per backfill asked for (its range, policy and how many jobs it fired), and on each
// job the backfill that fired it, so a backfill's progress is a count of its jobs by status.
import { type Kysely, sql } from 'kysely';

export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('backfills')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('workflow_id', 'text', (c) => c.notNull())
    .addColumn('user_id', 'text', (c) => c.notNull())
    .addColumn('range_from', 'timestamptz', (c) => c.notNull())
    .addColumn('range_to', 'timestamptz', (c) => c.notNull())
    .addColumn('overlap', 'text', (c) => c.notNull())
    .addColumn('jobs', 'integer', (c) => c.notNull())
    .addColumn('covered', 'integer', (c) => c.notNull())
    .addColumn('created_at', 'timestamptz', (c) => c.notNull())
    .execute();
  await sql`create index backfills_workflow on backfills (workflow_id, created_at desc)`.execute(db);
  await db.schema.alterTable('jobs').addColumn('backfill_id', 'text').execute();
  await sql`create index jobs_backfill on jobs (backfill_id) where backfill_id is not null`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('jobs').dropColumn('backfill_id').execute();
  await db.schema.dropTable('backfills').execute();
}
