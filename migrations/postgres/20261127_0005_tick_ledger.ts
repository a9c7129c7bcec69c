// The tick ledger: every nominal tick of a workflow, fired (with its job) or skipped (with the
// reason), and the workflow's last decided tick, which is where the scheduler resumes.
import { type Kysely, sql } from 'kysely';

export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('workflows').addColumn('last_tick_at', 'timestamptz').execute();
  await db.schema
    .createTable('workflow_ticks')
    .addColumn('workflow_id', 'text', (c) => c.notNull())
    .addColumn('nominal_at', 'timestamptz', (c) => c.notNull())
    .addColumn('user_id', 'text', (c) => c.notNull())
    .addColumn('outcome', 'text', (c) => c.notNull())
    .addColumn('reason', 'text')
    .addColumn('job_id', 'text')
    .addColumn('recorded_at', 'timestamptz', (c) => c.notNull())
    .addPrimaryKeyConstraint('workflow_ticks_pk', ['workflow_id', 'nominal_at'])
    .execute();
  await sql`create index workflows_schedulable on workflows (status, build_status)`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('workflow_ticks').execute();
  await db.schema.alterTable('workflows').dropColumn('last_tick_at').execute();
}
