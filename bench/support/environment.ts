// A private world for one benchmark: its own nats-server (own port and store), its own PostgreSQL and
// ClickHouse databases on the local stack's servers, connections to all three, migrated. With
// CV_BENCH_NATS_NODES=3 the nats-server is a private 3-node cluster and every stream and bucket has
// three replicas (the cost of replication, bench/replication-cost.ts). `dispose`
// closes and removes everything; environments still open when the process is interrupted are
// disposed by `disposeOpenEnvironments`.
import type { ClickHouseClient } from '@clickhouse/client';
import type { Kysely } from 'kysely';
import type { Config } from '../../src/config/config.ts';
import { EventStore } from '../../src/events/event-store.ts';
import { connectClickhouse } from '../../src/infra/clickhouse-connection.ts';
import type { Database } from '../../src/infra/database.ts';
import { connectNats, type Nats } from '../../src/infra/nats-connection.ts';
import { connectPostgres } from '../../src/infra/postgres-connection.ts';
import { migrateAll } from '../../src/migrate/migrate-all.ts';
import { createLogger, type Logger } from '../../src/telemetry/logger.ts';
import { startNatsCluster } from '../../test/support/nats-cluster.ts';
import { startNatsServer } from '../../test/support/nats-server.ts';
import { createTestDatabases } from '../../test/support/test-databases.ts';
import type { Progress } from './benchmark.ts';
import { natsServerPid } from './role-processes.ts';

export interface BenchEnvironment {
  readonly config: Config;
  readonly nats: Nats;
  readonly db: Kysely<Database>;
  readonly clickhouse: ClickHouseClient;
  readonly events: EventStore;
  /** Logs to stderr (the logger's default, stdout, is reserved for the report). */
  readonly log: Logger;
  /** The private nats-server's monitoring endpoint (on a cluster, the first node's: its connections only). */
  readonly natsMonitorUrl: string;
  /** The private nats-server processes (one, or every node of the cluster). */
  natsPids(): number[];
  dispose(): Promise<void>;
}

const open = new Set<BenchEnvironment>();

export async function openBenchEnvironment(name: string, progress: Progress): Promise<BenchEnvironment> {
  // Undone in reverse order: connections first, then the databases, then the server.
  const cleanups: { what: string; run: () => Promise<unknown> }[] = [];
  let disposed: Promise<void> | undefined;
  const dispose = () => {
    disposed ??= (async () => {
      for (const c of cleanups.reverse()) {
        await c
          .run()
          .catch((err: unknown) => progress(`${name}: cleanup of ${c.what} failed: ${String(err)}`));
      }
    })();
    return disposed;
  };
  try {
    const server = await startPrivateNats(benchNatsNodes());
    cleanups.push({ what: 'nats-server', run: () => server.dispose() });
    const dbs = await createTestDatabases({
      NATS_URL: server.url,
      CV_LOG_LEVEL: 'warn',
      ...(server.replicas > 1 ? { CV_NATS_REPLICAS: String(server.replicas) } : {}),
    });
    cleanups.push({ what: 'test databases', run: () => dbs.dispose() });
    const { config } = dbs;
    const nats = await connectNats(config.NATS_URL, `chronoverse-bench-${name}`);
    cleanups.push({ what: 'NATS connection', run: () => nats.nc.drain().catch(() => nats.nc.close()) });
    const db = connectPostgres(config.DATABASE_URL, config.DATABASE_POOL_SIZE);
    cleanups.push({ what: 'PostgreSQL pool', run: () => db.destroy() });
    const clickhouse = connectClickhouse({
      url: config.CLICKHOUSE_URL,
      database: config.CLICKHOUSE_DATABASE,
      username: config.CLICKHOUSE_USER,
      password: config.CLICKHOUSE_PASSWORD,
    });
    cleanups.push({ what: 'ClickHouse client', run: () => clickhouse.close() });
    await migrateAll(config, { db, nats });
    const log = createLogger(`bench.${name}`, 'warn', (line) => process.stderr.write(`${line}\n`));
    const env: BenchEnvironment = {
      config,
      nats,
      db,
      clickhouse,
      events: new EventStore(nats.js, nats.jsm),
      log,
      natsMonitorUrl: server.monitorUrl,
      natsPids: server.pids,
      async dispose() {
        open.delete(env);
        await dispose();
      },
    };
    open.add(env);
    progress(
      `${name}: private nats-server${server.replicas > 1 ? ` cluster (R${server.replicas})` : ''} at ${server.url}, databases ${config.CLICKHOUSE_DATABASE}`,
    );
    return env;
  } catch (err) {
    await dispose();
    throw err;
  }
}

/** How many nats-servers a benchmark's world has: CV_BENCH_NATS_NODES, 1 or 3 (default 1). */
export function benchNatsNodes(): 1 | 3 {
  const nodes = process.env.CV_BENCH_NATS_NODES ?? '1';
  if (nodes !== '1' && nodes !== '3') throw new Error(`CV_BENCH_NATS_NODES must be 1 or 3, not "${nodes}"`);
  return nodes === '3' ? 3 : 1;
}

async function startPrivateNats(nodes: 1 | 3) {
  if (nodes === 1) {
    const server = await startNatsServer();
    const pid = await natsServerPid(server.port);
    return {
      url: server.url,
      monitorUrl: server.monitorUrl,
      replicas: 1,
      pids: () => (pid ? [pid] : []),
      dispose: () => server.dispose(),
    };
  }
  const cluster = await startNatsCluster(3);
  return {
    url: cluster.url,
    monitorUrl: cluster.nodes[0]!.monitorUrl,
    replicas: 3,
    pids: () => cluster.nodes.flatMap((n) => (n.pid === undefined ? [] : [n.pid])),
    dispose: () => cluster.dispose(),
  };
}

/** Disposes every environment still open (on SIGINT/SIGTERM, so no server or database is left behind). */
export async function disposeOpenEnvironments(): Promise<void> {
  await Promise.all([...open].map((env) => env.dispose()));
}
