// Each role's readiness checks what that role needs (issue 17, item 3): an executor process serves
// /healthz and /readyz on CV_HEALTH_PORT and checks NATS and Docker; an API process checks NATS and
// PostgreSQL, not Docker. On SIGTERM /readyz turns 503 for CV_SHUTDOWN_DELAY_SECONDS while the process
// still serves, so a load balancer takes it out first; then it exits 0.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitUntil } from '../../src/stack/process-control.ts';
import { freePort, startNatsServer, type TestNatsServer } from '../support/nats-server.ts';
import { type RoleProcess, startRole } from '../support/role-process.ts';
import { createTestDatabases, type TestDatabases } from '../support/test-databases.ts';

let nats: TestNatsServer;
let dbs: TestDatabases;
const processes: RoleProcess[] = [];

beforeAll(async () => {
  nats = await startNatsServer();
  dbs = await createTestDatabases({ NATS_URL: nats.url });
});

afterAll(async () => {
  for (const p of processes) await p.kill('SIGKILL');
  await dbs?.dispose();
  await nats?.dispose();
});

type Readiness = { status: string; checks: Record<string, { ok: boolean; error?: string }> };
const readyz = async (base: string) => {
  const res = await fetch(`${base}/readyz`);
  return { status: res.status, body: (await res.json()) as Readiness };
};

describe('role health endpoints', () => {
  it("check each role's own dependencies and go unready before a graceful stop", {
    timeout: 120_000,
  }, async () => {
    // Three distinct ports: two free ports asked one after the other can be the same one.
    const ports = new Set<number>();
    while (ports.size < 3) ports.add(await freePort());
    const [healthPort, apiPort, executorHttpPort] = [...ports] as [number, number, number];
    const executor = startRole('executor', dbs.config, {
      CV_HEALTH_PORT: String(healthPort),
      CV_HTTP_PORT: String(executorHttpPort),
      CV_SHUTDOWN_DELAY_SECONDS: '3',
    });
    const api = startRole('api', dbs.config, { CV_HTTP_PORT: String(apiPort) });
    processes.push(executor, api);
    const executorBase = `http://127.0.0.1:${healthPort}`;
    const apiBase = `http://127.0.0.1:${apiPort}`;
    await waitUntil('executor health', async () => (await fetch(`${executorBase}/healthz`)).ok, 60_000).catch(
      (err: unknown) => {
        throw new Error(`${String(err)}\n${executor.output()}`);
      },
    );
    await waitUntil('api health', async () => (await fetch(`${apiBase}/healthz`)).ok, 60_000).catch(
      (err: unknown) => {
        throw new Error(`${String(err)}\n${api.output()}`);
      },
    );

    const ex = await readyz(executorBase);
    expect(ex.status, JSON.stringify(ex.body)).toBe(200);
    expect(Object.keys(ex.body.checks).sort()).toEqual(['accepting_work', 'docker', 'nats']);
    const ap = await readyz(apiBase);
    expect(ap.status, JSON.stringify(ap.body)).toBe(200);
    expect(Object.keys(ap.body.checks).sort()).toEqual(['accepting_work', 'nats', 'postgres']);

    executor.child.kill('SIGTERM');
    await waitUntil('executor unready', async () => (await readyz(executorBase)).status === 503, 5000);
    const draining = await readyz(executorBase);
    expect(draining.body.checks.accepting_work).toMatchObject({ ok: false, error: 'shutting down' });
    expect((await fetch(`${executorBase}/healthz`)).status).toBe(200);
    expect(await executor.exited, executor.output()).toBe(0);
    expect(await api.kill('SIGTERM')).toBe(0);
  });
});
