// Analytics over time (GET /analytics/series) reads a user's jobs by their nominal time: without this
// index that is a scan of every job of the user (jobs_user_status leads with the user, then status).
import { type Kysely, sql } from 'kysely';

export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`create index if not exists jobs_user_scheduled on jobs (user_id, scheduled_at)`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`drop index if exists jobs_user_scheduled`.execute(db);
}
