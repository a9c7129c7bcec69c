// A small ClickHouse migration runner with its own table. ClickHouse has no transactions or locks, so
// every statement is written to be safe to repeat (IF NOT EXISTS, or an ADD COLUMN whose column exists
// counting as done); a runner that dies between a statement and its bookkeeping, or races another
// role's runner, simply runs it again.
import type { ClickHouseClient } from '@clickhouse/client';
import { type ClickhouseMigration, clickhouseMigrations } from '../../migrations/clickhouse/index.ts';
import { assertIdentifier } from '../assert.ts';

/** `server` must not be bound to `database` (it may not exist yet). */
export async function migrateClickhouse(
  server: ClickHouseClient,
  database: string,
  migrations: readonly ClickhouseMigration[] = clickhouseMigrations,
): Promise<string[]> {
  const db = assertIdentifier(database);
  await server.command({ query: `CREATE DATABASE IF NOT EXISTS ${db}` });
  await server.command({
    query: `CREATE TABLE IF NOT EXISTS ${db}.schema_migrations (name String, applied_at DateTime)
            ENGINE = ReplacingMergeTree ORDER BY name`,
  });
  const applied = new Set(await appliedClickhouseMigrations(server, db));
  const ran: string[] = [];
  for (const migration of migrations) {
    if (applied.has(migration.name)) continue;
    for (const statement of migration.statements(db)) await runRepeatable(server, statement);
    await server.insert({
      table: `${db}.schema_migrations`,
      values: [{ name: migration.name, applied_at: Math.floor(Date.now() / 1000) }],
      format: 'JSONEachRow',
    });
    ran.push(migration.name);
  }
  return ran;
}

/**
 * Runs a statement that another process may have run a moment ago (every role migrates as it starts).
 * ClickHouse 18.16 has no ADD COLUMN IF NOT EXISTS: a column another runner added first is done.
 */
async function runRepeatable(server: ClickHouseClient, statement: string): Promise<void> {
  try {
    await server.command({ query: statement });
  } catch (err) {
    const added =
      /\bADD COLUMN\b/i.test(statement) && /column with this name already exists/i.test(String(err));
    if (!added) throw err;
  }
}

export async function appliedClickhouseMigrations(
  server: ClickHouseClient,
  database: string,
): Promise<string[]> {
  const rs = await server.query({
    query: `SELECT DISTINCT name FROM ${assertIdentifier(database)}.schema_migrations ORDER BY name`,
    format: 'JSONEachRow',
  });
  return (await rs.json<{ name: string }>()).map((r) => r.name);
}
