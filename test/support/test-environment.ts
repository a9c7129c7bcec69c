// The usual integration-test setup in one call: a private nats-server, fresh PostgreSQL and ClickHouse
// databases, a runtime connected to them (migrated unless asked not to), all disposed after the file.
import { afterAll, beforeAll } from 'vitest';
import type { Config } from '../../src/config/config.ts';
import { migrateAll } from '../../src/migrate/migrate-all.ts';
import { openRuntime, type Runtime } from '../../src/runtime/runtime.ts';
import { startNatsServer, type TestNatsServer } from './nats-server.ts';
import { createTestDatabases, type TestDatabases } from './test-databases.ts';

export interface TestEnvironment {
  readonly nats: TestNatsServer;
  readonly dbs: TestDatabases;
  readonly runtime: Runtime;
  readonly config: Config;
}

/** Call at the top of a test file; the fields are there once beforeAll has run. */
export function useTestEnvironment(
  options: { migrate?: boolean; overrides?: Partial<Record<keyof Config, string>> } = {},
): TestEnvironment {
  const env = {} as { -readonly [K in keyof TestEnvironment]: TestEnvironment[K] };
  beforeAll(async () => {
    env.nats = await startNatsServer();
    env.dbs = await createTestDatabases({ NATS_URL: env.nats.url, ...options.overrides });
    env.config = env.dbs.config;
    env.runtime = await openRuntime(env.config, 'test');
    if (options.migrate !== false) await migrateAll(env.config, env.runtime);
  });
  afterAll(async () => {
    await env.runtime?.close();
    await env.dbs?.dispose();
    await env.nats?.dispose();
  });
  return env;
}
