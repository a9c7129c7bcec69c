// Which actors' subjects have been archived (copied to ClickHouse's event_archive) and purged from the
// hot log (docs/events.md, "Retention and archive"). Not a read model: a rebuild never resets it, since
// the archive it describes is not rebuilt from the log either. The partial index serves the retention
// sweep's search for finished jobs older than the retention age, oldest first.
import { type Kysely, sql } from 'kysely';

export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('archived_subjects')
    .addColumn('subject', 'text', (c) => c.primaryKey())
    .addColumn('user_id', 'text', (c) => c.notNull())
    .addColumn('aggregate', 'text', (c) => c.notNull())
    .addColumn('aggregate_id', 'text', (c) => c.notNull())
    .addColumn('commits', 'integer', (c) => c.notNull())
    .addColumn('last_sequence', 'bigint', (c) => c.notNull())
    // When the actor finished (a job's last update): the sweep resumes its search from the latest.
    .addColumn('finished_at', 'timestamptz', (c) => c.notNull())
    .addColumn('archived_at', 'timestamptz', (c) => c.notNull())
    .execute();
  await sql`create index archived_subjects_finished_at on archived_subjects (finished_at)`.execute(db);
  await sql`create index jobs_finished_at on jobs (updated_at)
    where status in ('COMPLETED', 'FAILED', 'CANCELED')`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`drop index if exists jobs_finished_at`.execute(db);
  await db.schema.dropTable('archived_subjects').execute();
}
