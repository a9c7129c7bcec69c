// What the figures were measured on: CPU, memory, Node, and the versions of the three servers.
import os from 'node:os';
import pg from 'pg';
import { type Config, loadConfig } from '../../src/config/config.ts';
import { connectClickhouse } from '../../src/infra/clickhouse-connection.ts';
import { resolveNatsServer } from '../../src/stack/nats-binary.ts';
import { runCommand } from '../../src/stack/run-command.ts';

export interface MachineInfo {
  cpus: number;
  cpu_model: string;
  memory_gib: number;
  node: string;
  nats_server_version: string;
  postgres_version: string;
  clickhouse_version: string;
}

export async function machineInfo(): Promise<MachineInfo> {
  const config = loadConfig();
  const [nats, postgres, clickhouse] = await Promise.all([
    natsServerVersion(),
    postgresVersion(config.DATABASE_URL),
    clickhouseVersion(config),
  ]);
  const cpus = os.cpus();
  return {
    cpus: cpus.length,
    cpu_model: cpus[0]?.model.trim() ?? 'unknown',
    memory_gib: Math.round((os.totalmem() / 2 ** 30) * 10) / 10,
    node: process.version,
    nats_server_version: nats,
    postgres_version: postgres,
    clickhouse_version: clickhouse,
  };
}

/** The binary the benchmarks' private servers run (the local stack's 2.10). */
async function natsServerVersion(): Promise<string> {
  const binary = await resolveNatsServer(() => {});
  const r = await runCommand(binary, ['--version']);
  return /v?(\d+\.\d+\.\d+\S*)/.exec(r.stdout + r.stderr)?.[1] ?? 'unknown';
}

async function postgresVersion(databaseUrl: string): Promise<string> {
  // The maintenance database: the configured one need not exist yet.
  const url = new URL(databaseUrl);
  url.pathname = '/postgres';
  const client = new pg.Client({ connectionString: url.toString() });
  await client.connect();
  try {
    const r = await client.query<{ server_version: string }>('show server_version');
    return r.rows[0]?.server_version ?? 'unknown';
  } finally {
    await client.end();
  }
}

async function clickhouseVersion(config: Config): Promise<string> {
  const client = connectClickhouse(
    {
      url: config.CLICKHOUSE_URL,
      database: config.CLICKHOUSE_DATABASE,
      username: config.CLICKHOUSE_USER,
      password: config.CLICKHOUSE_PASSWORD,
    },
    null,
  );
  try {
    const rs = await client.query({ query: 'SELECT version() AS v', format: 'JSONEachRow' });
    return (await rs.json<{ v: string }>())[0]?.v ?? 'unknown';
  } finally {
    await client.close();
  }
}
