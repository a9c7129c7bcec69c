// A private nats-server per test suite: its own port and store, so a suite can stop and restart it
// without disturbing the others. Uses the same 2.10 binary as the local stack.
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { natsServerEnv, resolveNatsServer } from '../../src/stack/nats-binary.ts';
import { waitUntil } from '../../src/stack/process-control.ts';

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.listen(0, '127.0.0.1', () => {
      const address = srv.address();
      srv.close(() =>
        typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port')),
      );
    });
  });
}

export interface TestNatsServer {
  readonly url: string;
  readonly port: number;
  /** The monitoring endpoint (`/varz`, `/connz`, …). */
  readonly monitorUrl: string;
  stop(signal?: NodeJS.Signals): Promise<void>;
  /** SIGSTOP: the server hangs, its connections stay open (an outage no client can see coming). */
  freeze(): void;
  /** SIGCONT after freeze. */
  thaw(): void;
  start(): Promise<void>;
  dispose(): Promise<void>;
}

/** `configFile`: a nats-server configuration to start with (the flags for port, monitor and store still apply). */
export async function startNatsServer(options: { configFile?: string } = {}): Promise<TestNatsServer> {
  const binary = await resolveNatsServer(() => {});
  const port = await freePort();
  const monitor = await freePort();
  const store = mkdtempSync(join(tmpdir(), 'cv-nats-'));
  let child: ChildProcess | undefined;
  const server: TestNatsServer = {
    url: `nats://127.0.0.1:${port}`,
    port,
    monitorUrl: `http://127.0.0.1:${monitor}`,
    async start() {
      child = spawn(
        binary,
        [
          ...(options.configFile ? ['-c', options.configFile] : []),
          '-js',
          '-a',
          '127.0.0.1',
          '-p',
          String(port),
          '-m',
          String(monitor),
          '-sd',
          store,
        ],
        { stdio: 'ignore', env: natsServerEnv() },
      );
      await waitUntil('test nats-server', async () => {
        const res = await fetch(`http://127.0.0.1:${monitor}/healthz?js-enabled-only=true`);
        return res.ok;
      });
    },
    freeze() {
      child?.kill('SIGSTOP');
    },
    thaw() {
      child?.kill('SIGCONT');
    },
    async stop(signal = 'SIGTERM') {
      const c = child;
      if (!c || c.exitCode !== null) return;
      const exited = new Promise((r) => c.once('exit', r));
      c.kill(signal);
      await exited;
    },
    async dispose() {
      server.thaw();
      await server.stop('SIGKILL');
      rmSync(store, { recursive: true, force: true });
    },
  };
  await server.start();
  return server;
}
