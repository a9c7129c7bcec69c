// Chains: a workflow's chain (the workflows to run when one of its jobs ends, by outcome) on its row,
// and on each chained job the job whose end started it.
import { type Kysely, sql } from 'kysely';

export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('workflows').addColumn('chain', 'jsonb').execute();
  await db.schema
    .alterTable('jobs')
    .addColumn('caused_by_workflow_id', 'text')
    .addColumn('caused_by_job_id', 'text')
    .addColumn('chain_depth', 'integer')
    .execute();
  await sql`create index jobs_caused_by on jobs (caused_by_job_id) where caused_by_job_id is not null`.execute(
    db,
  );
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .alterTable('jobs')
    .dropColumn('caused_by_workflow_id')
    .dropColumn('caused_by_job_id')
    .dropColumn('chain_depth')
    .execute();
  await db.schema.alterTable('workflows').dropColumn('chain').execute();
}
