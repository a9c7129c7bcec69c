// Writes many rows of one table in one statement whose text depends only on the table and its
// columns: the rows travel as a single jsonb parameter that Postgres expands with
// jsonb_populate_recordset into the table's own row type. A VALUES list of N rows × C columns was a
// statement of N·C placeholders, different for every N: Kysely built it, and Postgres parsed and
// analysed it anew for every batch of every projection (heartbeat benchmark: ~450 job upserts of
// ~110 rows each per 25 s).
import { type RawBuilder, sql, type Transaction } from 'kysely';
import type { Database } from '../infra/database.ts';
import { postgresSafe } from './postgres-text.ts';

export type Conflict =
  /** Every column but the key takes the new row's value. */
  | { readonly update: 'all' }
  /** Only these columns take the new row's value. */
  | { readonly update: readonly string[] }
  | { readonly update: 'nothing' };

/**
 * Inserts `rows` into `table`, resolving a conflict on `key` as `conflict` says. The columns written
 * are those any row has; a row without one of them writes NULL there (not the column's default), so
 * rows are given whole. Text holding NUL (which Postgres refuses) gets U+FFFD, as `postgresSafe` does.
 */
export async function upsertRows(
  tx: Transaction<Database>,
  table: keyof Database & string,
  key: readonly string[],
  rows: readonly object[],
  conflict: Conflict,
): Promise<void> {
  if (rows.length === 0) return;
  const columns = columnsOf(rows);
  const updated =
    conflict.update === 'all'
      ? columns.filter((c) => !key.includes(c))
      : conflict.update === 'nothing'
        ? []
        : conflict.update;
  const onConflict: RawBuilder<unknown> =
    updated.length === 0
      ? sql`do nothing`
      : sql`do update set ${sql.join(updated.map((c) => sql`${sql.ref(c)} = ${sql.ref(`excluded.${c}`)}`))}`;
  const cols = sql.join(columns.map((c) => sql.ref(c)));
  await sql`
    insert into ${sql.table(table)} (${cols})
    select ${cols} from jsonb_populate_recordset(null::${sql.table(table)}, ${rowsAsJson(rows)}::jsonb)
    on conflict (${sql.join(key.map((c) => sql.ref(c)))}) ${onConflict}`.execute(tx);
}

/**
 * The rows as a JSON array. JSON writes NUL as the escape \u0000, so a text without one (nearly
 * every batch) is used as it is; one with it (or with that text written out literally) is built
 * again from rows made safe.
 */
function rowsAsJson(rows: readonly object[]): string {
  const json = JSON.stringify(rows);
  return json.includes('\\u0000') ? JSON.stringify(postgresSafe(rows)) : json;
}

function columnsOf(rows: readonly object[]): string[] {
  const columns = new Set<string>();
  for (const row of rows) for (const c of Object.keys(row)) columns.add(c);
  return [...columns];
}
