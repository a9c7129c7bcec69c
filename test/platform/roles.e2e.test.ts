// `chronoverse all` over a real socket: migrates, serves /readyz with every dependency ok, and on
// SIGTERM stops gracefully with exit code 0.
import { spawn } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitUntil } from '../../src/stack/process-control.ts';
import { freePort, startNatsServer, type TestNatsServer } from '../support/nats-server.ts';
import { cli } from '../support/role-process.ts';
import { createTestDatabases, type TestDatabases } from '../support/test-databases.ts';

let nats: TestNatsServer;
let dbs: TestDatabases;

beforeAll(async () => {
  nats = await startNatsServer();
  dbs = await createTestDatabases({ NATS_URL: nats.url });
});

afterAll(async () => {
  await dbs?.dispose();
  await nats?.dispose();
});

describe('chronoverse all', () => {
  it('serves readiness, then drains and exits 0 on SIGTERM', async () => {
    const port = await freePort();
    const child = spawn(...cli('all'), {
      env: {
        ...process.env,
        NATS_URL: nats.url,
        DATABASE_URL: dbs.config.DATABASE_URL,
        CLICKHOUSE_DATABASE: dbs.config.CLICKHOUSE_DATABASE,
        CV_HTTP_PORT: String(port),
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (b: Buffer) => (output += b));
    child.stderr.on('data', (b: Buffer) => (output += b));
    const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));

    await waitUntil(
      'api listening',
      async () => (await fetch(`http://127.0.0.1:${port}/healthz`)).ok,
      60_000,
    );
    const res = await fetch(`http://127.0.0.1:${port}/readyz`);
    const body = (await res.json()) as { checks: Record<string, { ok: boolean }> };
    expect(res.status, JSON.stringify(body)).toBe(200);
    expect(Object.values(body.checks).every((c) => c.ok)).toBe(true);
    expect(output).toContain('migrations applied');

    child.kill('SIGTERM');
    expect(await exited, output).toBe(0);
    expect(output).toContain('"msg":"shutting down"');
  });
});
