// The ClickHouse job-events projection's own state: each job's workflow and the start of its current
// attempt (for durations), looked up by key per batch instead of scanning ClickHouse. It replaces the
// job index that the read models kept for it.
import type { Kysely } from 'kysely';

export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('job_event_state')
    .addColumn('job_id', 'text', (c) => c.primaryKey())
    .addColumn('workflow_id', 'text', (c) => c.notNull())
    .addColumn('started_at', 'timestamptz')
    .execute();
  await db.schema.dropTable('job_index').ifExists().execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('job_event_state').execute();
}
