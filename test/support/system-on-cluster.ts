// What the fault tests on a NATS cluster stand on: a HEARTBEAT endpoint that counts what it is sent,
// and `chronoverse all` on a test cluster with its own databases and keys, a signed-up user and the
// test's own runtime (to read the log and the read models).
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openRuntime, type Runtime } from '../../src/runtime/runtime.ts';
import { waitUntil } from '../../src/stack/process-control.ts';
import type { TestNatsCluster } from './nats-cluster.ts';
import { freePort } from './nats-server.ts';
import { type RoleProcess, startRole } from './role-process.ts';
import { ApiClient } from './system.ts';
import { createTestDatabases, type TestDatabases } from './test-databases.ts';

export interface CountingEndpoint {
  /** Where HEARTBEAT payloads point: `${base}/<path>`. */
  readonly base: string;
  /** Requests received, by path. */
  readonly hits: ReadonlyMap<string, number>;
  close(): void;
}

/** An HTTP server on this machine answering 200 to every request and counting them by path. */
export async function startCountingEndpoint(): Promise<CountingEndpoint> {
  const hits = new Map<string, number>();
  const server = createServer((req, res) => {
    hits.set(req.url ?? '', (hits.get(req.url ?? '') ?? 0) + 1);
    res.writeHead(200).end('ok');
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    base: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    hits,
    close: () => void server.close(),
  };
}

export interface SystemOnCluster {
  readonly dbs: TestDatabases;
  readonly runtime: Runtime;
  readonly system: RoleProcess;
  readonly user: ApiClient;
  readonly userId: string;
  /** Kills the system and removes everything but the cluster. */
  dispose(): Promise<void>;
}

/**
 * `chronoverse all` on `cluster` with R3 streams. `systemNatsUrl` and `testNatsUrl` name the nodes the
 * system and the test's runtime are given (default: every node).
 */
export async function startSystemOnCluster(
  cluster: TestNatsCluster,
  options: { label: string; systemNatsUrl?: string; testNatsUrl?: string },
): Promise<SystemOnCluster> {
  const keyDir = mkdtempSync(join(tmpdir(), `cv-${options.label}-keys-`));
  const port = await freePort();
  const dbs = await createTestDatabases({
    NATS_URL: cluster.url,
    CV_HTTP_PORT: String(port),
    CV_JWT_KEY_DIR: keyDir,
  });
  const system = startRole('all', dbs.config, {
    ...(options.systemNatsUrl ? { NATS_URL: options.systemNatsUrl } : {}),
    CV_JWT_KEY_DIR: keyDir,
    CV_LOG_LEVEL: 'warn',
    CV_NATS_REPLICAS: '3',
  });
  await waitUntil('api up', async () => (await fetch(`http://127.0.0.1:${port}/healthz`)).ok, 60_000).catch(
    (err: unknown) => {
      throw new Error(`${String(err)}\n${system.output()}`);
    },
  );
  const runtime = await openRuntime(
    options.testNatsUrl ? { ...dbs.config, NATS_URL: options.testNatsUrl } : dbs.config,
    'test',
  );
  const user = new ApiClient(`http://127.0.0.1:${port}`);
  const userId = await user.signUp(`${options.label}@example.com`);
  return {
    dbs,
    runtime,
    system,
    user,
    userId,
    async dispose() {
      await system.kill('SIGKILL');
      await runtime.close();
      await dbs.dispose();
      rmSync(keyDir, { recursive: true, force: true });
    },
  };
}
