// Stores of a test's own, to kill, stop and start again without touching the shared stack that other
// suites use at the same time: a PostgreSQL cluster (initdb in a temporary folder, run by pg_ctl as
// the `postgres` user), a ClickHouse server (the packaged configuration rewritten to free ports and a
// temporary folder, as the stack does), and a Docker engine (its own socket, data and exec roots, no
// bridge, no iptables, vfs, with the busybox test image imported). The nats-server of a test system
// (test/support/nats-server.ts) is wrapped in the same shape. Each comes back on the same address
// with the same data, so a client that reconnects finds what it left.
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import {
  chmodSync,
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Docker from 'dockerode';
import pg from 'pg';
import { commandLineOf, isAlive, sleep, waitUntil } from '../../src/stack/process-control.ts';
import { localClickhouseConfig } from '../../src/stack/services/clickhouse-service.ts';
import { dockerPing } from '../../src/stack/services/docker-service.ts';
import { httpOk } from '../../src/stack/services/local-service.ts';
import {
  initPostgresCluster,
  startPostgresCluster,
  stopPostgresCluster,
} from '../../src/stack/services/postgres-service.ts';
import { ensureTestImage } from '../../src/stack/test-image.ts';
import { freePort, type TestNatsServer } from './nats-server.ts';

export type StoreKind = 'nats' | 'postgres' | 'clickhouse' | 'docker';

export interface PrivateStore {
  readonly kind: StoreKind;
  /** The variables that point Chronoverse at this store (DATABASE_URL, CLICKHOUSE_URL, DOCKER_HOST). */
  readonly env: Record<string, string>;
  /** Whether it answers now. */
  isUp(): Promise<boolean>;
  /** SIGKILL: the server and its processes gone at once, nothing flushed. Resolves once they are. */
  kill(): Promise<void>;
  /** A clean shutdown, as an operator stops it. */
  stop(): Promise<void>;
  /** Starts it again on the same address with the same data; resolves once it answers. */
  start(): Promise<void>;
  dispose(): Promise<void>;
}

/** The pids of `pid`'s children (from /proc), so a killed server leaves no worker behind. */
function childPids(pid: number): number[] {
  try {
    const children = readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim();
    return children ? children.split(/\s+/).map(Number) : [];
  } catch {
    return [];
  }
}

/** Processes whose command line names `marker` (a temporary folder of this test's own). */
function processesNaming(marker: string): number[] {
  return readdirSync('/proc')
    .filter((p) => /^\d+$/.test(p))
    .map(Number)
    .filter((p) => p !== process.pid && commandLineOf(p)?.includes(marker));
}

/** Mount points at or under `dir`, deepest first. */
function mountsUnder(dir: string): string[] {
  return readFileSync('/proc/self/mounts', 'utf8')
    .split('\n')
    .map((line) => line.split(' ')[1] ?? '')
    .filter((m) => m === dir || m.startsWith(`${dir}/`))
    .sort((a, b) => b.length - a.length);
}

async function killAll(pids: readonly number[]): Promise<void> {
  for (const p of pids) {
    try {
      process.kill(p, 'SIGKILL');
    } catch {
      // already gone
    }
  }
  const deadline = Date.now() + 10_000;
  // A killed process stays a zombie until its parent (init, for a daemon) reaps it, and a zombie
  // still counts as alive to whoever checks with kill(pid, 0), as dockerd does for its containerd.
  // Gone means gone; a zombie no one reaps within the deadline is accepted.
  const present = (p: number) => existsSync(`/proc/${p}`);
  const zombie = (p: number) => {
    try {
      return /^\d+ \(.*\) Z/.test(readFileSync(`/proc/${p}/stat`, 'utf8'));
    } catch {
      return false;
    }
  };
  while (pids.some(present)) {
    if (Date.now() > deadline) {
      if (pids.filter(present).every(zombie)) return;
      throw new Error(`processes ${pids.filter(present).join(', ')} survived SIGKILL`);
    }
    await sleep(50);
  }
}

/** A child process whose exit can be awaited; `signal` it and wait. */
function daemon(command: string, args: readonly string[], logFile: string, env = process.env) {
  const out = openSync(logFile, 'a');
  const child: ChildProcess = spawn(command, args, { stdio: ['ignore', out, out], env });
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  return {
    child,
    async signal(signal: NodeJS.Signals, timeoutMs = 30_000): Promise<void> {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill(signal);
      const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
      await exited;
      clearTimeout(timer);
    },
  };
}

/** Waits until `isUp`; a server that exits meanwhile fails at once, with the end of its log. */
async function untilUp(
  what: string,
  child: ChildProcess,
  isUp: () => Promise<boolean>,
  logFile: string,
  timeoutMs = 60_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await isUp())) {
    const tail = () => {
      try {
        return readFileSync(logFile, 'utf8').split('\n').slice(-20).join('\n');
      } catch {
        return '';
      }
    };
    if (child.exitCode !== null || child.signalCode !== null)
      throw new Error(`${what} exited (${child.exitCode ?? child.signalCode}):\n${tail()}`);
    if (Date.now() > deadline)
      throw new Error(`${what} did not answer within ${timeoutMs / 1000}s:\n${tail()}`);
    await sleep(100);
  }
}

/** The test system's nats-server as a store to fault (it already has its own port and store). */
export function natsStore(server: TestNatsServer): PrivateStore {
  return {
    kind: 'nats',
    env: { NATS_URL: server.url },
    isUp: () => httpOk(`${server.monitorUrl}/healthz?js-enabled-only=true`),
    kill: () => server.stop('SIGKILL'),
    stop: () => server.stop('SIGTERM'),
    start: () => server.start(),
    dispose: () => server.dispose(),
  };
}

/**
 * A PostgreSQL cluster of its own on a free port. The folder is under /var/tmp, which the `postgres`
 * user can reach (a clone under /root is out of its reach; see src/stack/services/postgres-service.ts).
 */
export async function startPrivatePostgres(): Promise<PrivateStore> {
  const dir = mkdtempSync('/var/tmp/cv-fault-pg-');
  const port = await freePort();
  await initPostgresCluster(dir);
  chmodSync(dir, 0o700);
  const pidOf = () => Number(readFileSync(join(dir, 'postmaster.pid'), 'utf8').split('\n')[0]);
  const url = `postgres://postgres@127.0.0.1:${port}/postgres`;
  const isUp = async () => {
    const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 2000 });
    try {
      await client.connect();
      await client.query('select 1');
      return true;
    } catch {
      return false;
    } finally {
      await client.end().catch(() => {});
    }
  };
  const store: PrivateStore = {
    kind: 'postgres',
    env: { DATABASE_URL: url },
    isUp,
    async kill() {
      const pid = pidOf();
      if (!isAlive(pid)) return;
      // The postmaster and every backend: a backend left alive would hold the shared memory and keep
      // the next postmaster from starting, which is not what a crashed server does.
      await killAll([pid, ...childPids(pid)]);
    },
    stop: () => stopPostgresCluster(dir, 'fast'),
    async start() {
      // A commit acknowledged must survive a crash of the server, as it does in production: with the
      // stack's synchronous_commit=off a SIGKILL loses the last commits the server acknowledged (the
      // projector's among them, whose rows then never come back).
      await startPostgresCluster(dir, port, { synchronous_commit: 'on' });
      await waitUntil('private postgres', isUp, 30_000);
    },
    async dispose() {
      await store.kill().catch(() => {});
      rmSync(dir, { recursive: true, force: true });
    },
  };
  await store.start();
  return store;
}

/** A ClickHouse server of its own: the packaged configuration on three free ports, data in a temporary folder. */
export async function startPrivateClickhouse(): Promise<PrivateStore> {
  const dir = mkdtempSync(join(tmpdir(), 'cv-fault-ch-'));
  mkdirSync(join(dir, 'log'), { recursive: true });
  mkdirSync(join(dir, 'data'), { recursive: true });
  const ports = { http: await freePort(), tcp: await freePort(), interserver: await freePort() };
  const configFile = join(dir, 'config.xml');
  writeFileSync(
    configFile,
    localClickhouseConfig(readFileSync('/etc/clickhouse-server/config.xml', 'utf8'), dir, ports),
  );
  copyFileSync('/etc/clickhouse-server/users.xml', join(dir, 'users.xml'));
  const url = `http://127.0.0.1:${ports.http}`;
  const isUp = () => httpOk(`${url}/ping`, 'Ok').catch(() => false);
  let server: ReturnType<typeof daemon> | undefined;
  const store: PrivateStore = {
    kind: 'clickhouse',
    env: { CLICKHOUSE_URL: url },
    isUp,
    kill: async () => server?.signal('SIGKILL'),
    stop: async () => server?.signal('SIGTERM'),
    async start() {
      server = daemon('clickhouse-server', [`--config-file=${configFile}`], join(dir, 'server.out'));
      await untilUp('private clickhouse', server.child, isUp, join(dir, 'log', 'clickhouse-server.err.log'));
    },
    async dispose() {
      await server?.signal('SIGKILL');
      rmSync(dir, { recursive: true, force: true });
    },
  };
  await store.start();
  return store;
}

/**
 * A Docker engine of its own (as the stack's: no bridge, no iptables, vfs), with the busybox test
 * image. It starts its own containerd under its exec root; a SIGKILL takes dockerd alone, as a crash
 * of the engine does, and the next dockerd finds that containerd again.
 */
export async function startPrivateDocker(): Promise<PrivateStore> {
  const dir = mkdtempSync(join(tmpdir(), 'cv-fault-docker-'));
  const dirs = { data: join(dir, 'data'), exec: join(dir, 'exec') };
  for (const d of Object.values(dirs)) mkdirSync(d, { recursive: true });
  const socket = join(dir, 'docker.sock');
  const host = `unix://${socket}`;
  const args = [
    '--iptables=false',
    '--ip-forward=false',
    '--ip-masq=false',
    '--bridge=none',
    '--storage-driver=vfs',
    `--data-root=${dirs.data}`,
    `--exec-root=${dirs.exec}`,
    `--pidfile=${join(dir, 'docker.pid')}`,
    `--host=${host}`,
  ];
  const isUp = () => dockerPing(socket).catch(() => false);
  const containerdPid = () => {
    try {
      return Number(readFileSync(join(dirs.exec, 'containerd', 'containerd.pid'), 'utf8').trim());
    } catch {
      return 0;
    }
  };
  let server: ReturnType<typeof daemon> | undefined;
  const store: PrivateStore = {
    kind: 'docker',
    env: { DOCKER_HOST: host },
    isUp,
    async kill() {
      const containerd = containerdPid();
      await server?.signal('SIGKILL');
      // Its containerd follows it (dockerd starts it with a parent-death signal); a dockerd started
      // while that one is still exiting would take it for alive and wait on it until it gives up.
      await killAll(containerd ? [containerd] : []);
    },
    stop: async () => server?.signal('SIGTERM'),
    async start() {
      server = daemon('dockerd', args, join(dir, 'dockerd.log'));
      await untilUp('private dockerd', server.child, isUp, join(dir, 'dockerd.log'));
    },
    async dispose() {
      if (!(await isUp())) await store.start().catch(() => {});
      // Containers first, then a clean stop, which stops its containerd too.
      const docker = new Docker({ socketPath: socket });
      for (const c of await docker.listContainers({ all: true }).catch(() => []))
        await docker
          .getContainer(c.Id)
          .remove({ force: true })
          .catch(() => {});
      await server?.signal('SIGTERM');
      const containerd = containerdPid();
      // What a killed engine left: its containerd, container shims (found by the folder in their
      // command line: ours alone), and the mounts under the folder.
      await killAll([containerd, ...processesNaming(dir)].filter((p) => p && isAlive(p)));
      for (const mount of mountsUnder(dir)) spawnSync('umount', ['-l', mount]);
      rmSync(dir, { recursive: true, force: true });
    },
  };
  await store.start();
  await ensureTestImage(host, () => {});
  return store;
}
