// Every row of every read-model table, in key order: what "the read model equals a rebuild" compares.
import { type Kysely, sql } from 'kysely';
import type { Database } from '../../src/infra/database.ts';
import { readModelTables } from '../../src/projections/postgres-read-models.ts';

export async function dumpReadModels(db: Kysely<Database>): Promise<Record<string, unknown[]>> {
  const out: Record<string, unknown[]> = {};
  for (const table of readModelTables) {
    // Every table's key is within its first two columns (workflow_ticks: workflow_id, nominal_at).
    const rows = await sql<Record<string, unknown>>`select * from ${sql.table(table)} order by 1, 2`.execute(
      db,
    );
    out[table] = rows.rows;
  }
  return out;
}
