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
    const bin = postgresBinDir();
    if (!bin) throw new Error('PostgreSQL binaries not found under /usr/lib/postgresql');
    mkdirSync(pgDir, { recursive: true });
    if (isRoot()) {
      const { uid, gid } = await userIds('postgres');
      chownSync(pgDir, uid, gid);
    }
    if (!existsSync(join(pgDir, 'PG_VERSION'))) {
      log('initialising PostgreSQL in .data/postgres …');
      await asPostgres(`${bin}/initdb`, [
        '-D',
        pgDir,
        '-U',
        'postgres',
        '--auth=trust',
        '-E',
        'UTF8',
        '--no-sync',
      ]);
    }
    const logFile = join(pgDir, 'server.log');
    // fsync off: this is a disposable development and test store; it roughly doubles write speed here.
    const opts = `-p ${stackPorts.postgres} -k ${pgDir} -c listen_addresses=127.0.0.1 -c max_connections=200 -c fsync=off -c synchronous_commit=off -c full_page_writes=off`;
    await asPostgres(`${bin}/pg_ctl`, ['-D', pgDir, '-l', logFile, '-o', opts, '-w', '-t', '60', 'start']);
    return Number(readFileSync(join(pgDir, 'postmaster.pid'), 'utf8').split('\n')[0]);
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
