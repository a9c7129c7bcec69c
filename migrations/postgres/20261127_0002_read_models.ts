// Read models projected from the event log: users, workflows, jobs, notifications and analytics.
// Every column derives from events (times from occurredAt), so a rebuild gives the same rows.
import { type Kysely, sql } from 'kysely';

export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('users')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('email', 'text', (c) => c.notNull())
    .addColumn('notification_preference', 'text', (c) => c.notNull())
    .addColumn('created_at', 'timestamptz', (c) => c.notNull())
    .addColumn('updated_at', 'timestamptz', (c) => c.notNull())
    .addColumn('version', 'bigint', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('users_email').on('users').column('email').execute();

  await db.schema
    .createTable('workflows')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('user_id', 'text', (c) => c.notNull())
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('kind', 'text', (c) => c.notNull())
    .addColumn('payload', 'jsonb', (c) => c.notNull())
    .addColumn('schedule', 'jsonb', (c) => c.notNull())
    .addColumn('interval_minutes', 'integer')
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('build_status', 'text', (c) => c.notNull())
    .addColumn('build_error', 'text')
    .addColumn('image_digest', 'text')
    .addColumn('max_consecutive_job_failures_allowed', 'integer', (c) => c.notNull())
    .addColumn('consecutive_job_failures', 'integer', (c) => c.notNull())
    .addColumn('last_fired_at', 'timestamptz')
    .addColumn('terminated_at', 'timestamptz')
    .addColumn('terminated_reason', 'text')
    .addColumn('created_at', 'timestamptz', (c) => c.notNull())
    .addColumn('updated_at', 'timestamptz', (c) => c.notNull())
    .addColumn('version', 'bigint', (c) => c.notNull())
    .execute();
  await sql`create index workflows_user_page on workflows (user_id, created_at desc, id desc)`.execute(db);

  await db.schema
    .createTable('jobs')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('workflow_id', 'text', (c) => c.notNull())
    .addColumn('user_id', 'text', (c) => c.notNull())
    .addColumn('kind', 'text', (c) => c.notNull())
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('trigger', 'text', (c) => c.notNull())
    .addColumn('attempt', 'integer', (c) => c.notNull())
    .addColumn('scheduled_at', 'timestamptz', (c) => c.notNull())
    .addColumn('queued_at', 'timestamptz')
    .addColumn('started_at', 'timestamptz')
    .addColumn('completed_at', 'timestamptz')
    .addColumn('not_before', 'timestamptz')
    .addColumn('executor_id', 'text')
    .addColumn('exit_code', 'integer')
    .addColumn('failure_kind', 'text')
    .addColumn('failure_reason', 'text')
    .addColumn('error_message', 'text')
    .addColumn('image_digest', 'text')
    .addColumn('created_at', 'timestamptz', (c) => c.notNull())
    .addColumn('updated_at', 'timestamptz', (c) => c.notNull())
    .addColumn('version', 'bigint', (c) => c.notNull())
    .execute();
  await sql`create index jobs_workflow_page on jobs (workflow_id, created_at desc, id desc)`.execute(db);
  await sql`create index jobs_user_status on jobs (user_id, status)`.execute(db);

  await db.schema
    .createTable('notifications')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('user_id', 'text', (c) => c.notNull())
    .addColumn('kind', 'text', (c) => c.notNull())
    .addColumn('title', 'text', (c) => c.notNull())
    .addColumn('message', 'text', (c) => c.notNull())
    .addColumn('entity_id', 'text', (c) => c.notNull())
    .addColumn('entity_type', 'text', (c) => c.notNull())
    .addColumn('action_url', 'text', (c) => c.notNull())
    .addColumn('read_at', 'timestamptz')
    .addColumn('created_at', 'timestamptz', (c) => c.notNull())
    .execute();
  await sql`create index notifications_user_page on notifications (user_id, (read_at is not null), created_at desc, id desc)`.execute(
    db,
  );

  await db.schema
    .createTable('workflow_stats')
    .addColumn('workflow_id', 'text', (c) => c.primaryKey())
    .addColumn('user_id', 'text', (c) => c.notNull())
    .addColumn('jobs_total', 'integer', (c) => c.notNull())
    .addColumn('jobs_completed', 'integer', (c) => c.notNull())
    .addColumn('jobs_failed', 'integer', (c) => c.notNull())
    .addColumn('jobs_canceled', 'integer', (c) => c.notNull())
    .addColumn('total_duration_ms', 'bigint', (c) => c.notNull())
    .addColumn('log_lines', 'bigint', (c) => c.notNull())
    .addColumn('last_job_at', 'timestamptz')
    .execute();
  await db.schema.createIndex('workflow_stats_user').on('workflow_stats').column('user_id').execute();

  await db.schema
    .createTable('user_stats')
    .addColumn('user_id', 'text', (c) => c.primaryKey())
    .addColumn('workflows', 'integer', (c) => c.notNull())
    .addColumn('jobs_total', 'integer', (c) => c.notNull())
    .addColumn('jobs_completed', 'integer', (c) => c.notNull())
    .addColumn('jobs_failed', 'integer', (c) => c.notNull())
    .addColumn('jobs_canceled', 'integer', (c) => c.notNull())
    .addColumn('total_duration_ms', 'bigint', (c) => c.notNull())
    .addColumn('log_lines', 'bigint', (c) => c.notNull())
    .execute();

  // Which workflow a job belongs to, for projections that see job events without it (ClickHouse).
  await db.schema
    .createTable('job_index')
    .addColumn('job_id', 'text', (c) => c.primaryKey())
    .addColumn('workflow_id', 'text', (c) => c.notNull())
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  for (const t of [
    'job_index',
    'user_stats',
    'workflow_stats',
    'notifications',
    'jobs',
    'workflows',
    'users',
  ]) {
    await db.schema.dropTable(t).ifExists().execute();
  }
}
