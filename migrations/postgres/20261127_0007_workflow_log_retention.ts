// A workflow's `log_retention` (false: its jobs' lines are not stored). Existing rows get true, which
// is what their events mean: they were created before the field existed, when every log was kept.
import type { Kysely } from 'kysely';

export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .alterTable('workflows')
    .addColumn('log_retention', 'boolean', (c) => c.notNull().defaultTo(true))
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('workflows').dropColumn('log_retention').execute();
}
