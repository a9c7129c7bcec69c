// PostgreSQL in .data/postgres with trust auth on 127.0.0.1 only. As root, initdb and the server run
// as the `postgres` user (PostgreSQL refuses to run as root), so the folder is handed to that user.
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chownSync, existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';
import { dataDir, stackPorts } from '../paths.ts';
import { runChecked, runCommand } from '../run-command.ts';
import { isRoot, postgresBinDir } from '../system-packages.ts';
import type { LocalService } from './local-service.ts';

/**
 * PostgreSQL runs as the `postgres` user, which must be able to reach its folder. A clone under a
 * private home (/root is 0700) is out of its reach; then the folder lives in /var/tmp instead, named
 * after the project's data folder so that each clone keeps its own.
 */
let resolvedDir: string | undefined;
export function postgresDataDir(): string {
  resolvedDir ??= chooseDataDir();
  return resolvedDir;
}

function chooseDataDir(): string {
  const inProject = join(dataDir, 'postgres');
  if (!isRoot()) return inProject;
  mkdirSync(dataDir, { recursive: true });
  const reachable =
    spawnSync('su', ['postgres', '-s', '/bin/sh', '-c', 'test -x "$0"', dataDir]).status === 0;
  if (reachable) return inProject;
  return `/var/tmp/chronoverse-postgres-${createHash('sha256').update(dataDir).digest('hex').slice(0, 12)}`;
}

const databases = ['chronoverse'];

async function asPostgres(command: string, args: string[]): Promise<string> {
  if (!isRoot()) return runChecked(command, args);
  const quoted = [command, ...args].map((a) => `'${a.replaceAll("'", "'\\''")}'`).join(' ');
  return runChecked('su', ['postgres', '-s', '/bin/sh', '-c', quoted]);
}

async function userIds(name: string): Promise<{ uid: number; gid: number }> {
  const r = await runCommand('id', ['-u', name]);
  const g = await runCommand('id', ['-g', name]);
  if (r.code !== 0) throw new Error(`user ${name} not found: is the postgresql package installed?`);
  return { uid: Number(r.stdout.trim()), gid: Number(g.stdout.trim()) };
}

/**
 * A cluster in `dir` (created and handed to the `postgres` user when needed; initdb when empty):
 * trust auth, UTF-8. Used by the stack and by the tests that need a server of their own to kill.
 */
export async function initPostgresCluster(dir: string, announce: () => void = () => {}): Promise<void> {
  const bin = postgresBinDir();
  if (!bin) throw new Error('PostgreSQL binaries not found under /usr/lib/postgresql');
  mkdirSync(dir, { recursive: true });
  if (isRoot()) {
    const { uid, gid } = await userIds('postgres');
    chownSync(dir, uid, gid);
  }
  if (existsSync(join(dir, 'PG_VERSION'))) return;
  announce();
  await asPostgres(`${bin}/initdb`, ['-D', dir, '-U', 'postgres', '--auth=trust', '-E', 'UTF8', '--no-sync']);
}

/**
 * Starts the cluster in `dir` on 127.0.0.1:`port` (its socket in `dir`), waits for it; returns its
 * pid. `settings` override the defaults below (`-c name=value`).
 */
export async function startPostgresCluster(
  dir: string,
  port: number,
  settings: Record<string, string> = {},
): Promise<number> {
  const bin = postgresBinDir();
  if (!bin) throw new Error('PostgreSQL binaries not found under /usr/lib/postgresql');
  const logFile = join(dir, 'server.log');
  // fsync off: this is a disposable development and test store; it roughly doubles write speed here.
  // synchronous_commit off as well, which loses the last commits when the server itself crashes.
  const all = { fsync: 'off', synchronous_commit: 'off', full_page_writes: 'off', ...settings };
  const opts = `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c max_connections=200 ${Object.entries(
    all,
  )
    .map(([k, v]) => `-c ${k}=${v}`)
    .join(' ')}`;
  await asPostgres(`${bin}/pg_ctl`, ['-D', dir, '-l', logFile, '-o', opts, '-w', '-t', '60', 'start']);
  return Number(readFileSync(join(dir, 'postmaster.pid'), 'utf8').split('\n')[0]);
}

/** `pg_ctl stop` in the given mode (`fast`: roll back open transactions, disconnect, shut down cleanly). */
export async function stopPostgresCluster(
  dir: string,
  mode: 'smart' | 'fast' | 'immediate' = 'fast',
): Promise<void> {
  const bin = postgresBinDir();
  if (!bin) throw new Error('PostgreSQL binaries not found under /usr/lib/postgresql');
  await asPostgres(`${bin}/pg_ctl`, ['-D', dir, '-m', mode, '-w', '-t', '60', 'stop']);
}

export const postgresService: LocalService = {
  name: 'postgres',
  get marker() {
    return postgresDataDir();
  },
  stopSignal: 'SIGINT',
  address: `postgres://postgres@127.0.0.1:${stackPorts.postgres}`,
  async isReady() {
    const client = new pg.Client({
      host: '127.0.0.1',
      port: stackPorts.postgres,
      user: 'postgres',
      database: 'postgres',
      connectionTimeoutMillis: 2000,
    });
    try {
      await client.connect();
      await client.query('select 1');
      return true;
    } finally {
      await client.end().catch(() => {});
    }
  },
  async start(log) {
    const pgDir = postgresDataDir();
    await initPostgresCluster(pgDir, () => log('initialising PostgreSQL in .data/postgres …'));
    return startPostgresCluster(pgDir, stackPorts.postgres);
  },
  async afterReady() {
    const client = new pg.Client({
      host: '127.0.0.1',
      port: stackPorts.postgres,
      user: 'postgres',
      database: 'postgres',
    });
    await client.connect();
    try {
      for (const db of databases) {
        const { rowCount } = await client.query('select 1 from pg_database where datname = $1', [db]);
        if (!rowCount) await client.query(`create database "${db}"`);
      }
    } finally {
      await client.end();
    }
  },
};
