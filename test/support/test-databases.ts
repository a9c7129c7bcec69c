// A fresh PostgreSQL database and ClickHouse database per test file, on the local stack's servers
// (or those named by DATABASE_URL / CLICKHOUSE_URL, in the environment or the overrides), dropped
// afterwards.
import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { type Config, loadConfig } from '../../src/config/config.ts';
import { connectClickhouse } from '../../src/infra/clickhouse-connection.ts';

export interface TestDatabases {
  readonly config: Config;
  dispose(): Promise<void>;
}

export async function createTestDatabases(
  overrides: Partial<Record<keyof Config, string>> = {},
): Promise<TestDatabases> {
  // The servers are the stack's, or those the overrides name (a test's private PostgreSQL or ClickHouse).
  const base = loadConfig({ ...process.env, ...overrides });
  const name = `cv_test_${randomUUID().replaceAll('-', '').slice(0, 12)}`;
  const adminUrl = new URL(base.DATABASE_URL);
  adminUrl.pathname = '/postgres';
  const admin = new pg.Client({ connectionString: adminUrl.toString() });
  await admin.connect();
  await admin.query(`create database ${name}`);
  await admin.end();
  const dbUrl = new URL(base.DATABASE_URL);
  dbUrl.pathname = `/${name}`;
  const config = loadConfig({
    ...process.env,
    ...overrides,
    DATABASE_URL: dbUrl.toString(),
    CLICKHOUSE_DATABASE: name,
    // The systems of tests running side by side share the stack's Docker engine; each one's
    // executors get an id of their own, as two installations on one engine should.
    CV_EXECUTOR_ID: overrides.CV_EXECUTOR_ID ?? process.env.CV_EXECUTOR_ID ?? name,
  });
  return {
    config,
    async dispose() {
      const a = new pg.Client({ connectionString: adminUrl.toString() });
      await a.connect();
      await a.query(`drop database if exists ${name} with (force)`);
      await a.end();
      const ch = connectClickhouse(
        {
          url: config.CLICKHOUSE_URL,
          database: name,
          username: config.CLICKHOUSE_USER,
          password: config.CLICKHOUSE_PASSWORD,
        },
        null,
      );
      await ch.command({ query: `DROP DATABASE IF EXISTS ${name}` });
      await ch.close();
    },
  };
}
