// The I/O edges of a process: configuration, logger and one connection to each dependency, opened
// once and passed inward. `close` releases them in the reverse order.
import type { ClickHouseClient } from '@clickhouse/client';
import type Docker from 'dockerode';
import { type Kysely, sql } from 'kysely';
import { CommandHandler } from '../actors/command-handler.ts';
import type { Config } from '../config/config.ts';
import { EventStore } from '../events/event-store.ts';
import { natsSnapshotStore, type SnapshotStore } from '../events/snapshot-bucket.ts';
import type { Probe } from '../health/readiness.ts';
import { connectClickhouse } from '../infra/clickhouse-connection.ts';
import type { Database } from '../infra/database.ts';
import { connectDocker } from '../infra/docker-connection.ts';
import { connectNats, type Nats, natsReplicas } from '../infra/nats-connection.ts';
import { connectPostgres } from '../infra/postgres-connection.ts';
import { EventArchive } from '../projections/event-archive.ts';
import { createLogger, type Logger } from '../telemetry/logger.ts';
import { meters } from '../telemetry/metrics.ts';
import { activeTraceContext } from '../telemetry/tracing.ts';

export interface Runtime {
  readonly config: Config;
  readonly log: Logger;
  readonly nats: Nats;
  readonly db: Kysely<Database>;
  readonly clickhouse: ClickHouseClient;
  readonly docker: Docker;
  readonly events: EventStore;
  readonly commands: CommandHandler;
  /** Persisted actor snapshots (KV bucket CV_SNAPSHOTS), as the command handler uses them. */
  readonly snapshots: SnapshotStore;
  /** Commits retention moved out of the log (ClickHouse event_archive). */
  readonly archive: EventArchive;
  readonly readinessProbes: Record<string, Probe>;
  close(): Promise<void>;
}

export async function openRuntime(config: Config, processName: string): Promise<Runtime> {
  const log = createLogger(processName, config.CV_LOG_LEVEL);
  const nats = await connectNats(config.NATS_URL, `chronoverse-${processName}`);
  const db = connectPostgres(config.DATABASE_URL, config.DATABASE_POOL_SIZE);
  const clickhouse = connectClickhouse({
    url: config.CLICKHOUSE_URL,
    database: config.CLICKHOUSE_DATABASE,
    username: config.CLICKHOUSE_USER,
    password: config.CLICKHOUSE_PASSWORD,
  });
  const docker = connectDocker(config.DOCKER_HOST);
  const events = new EventStore(nats.js, nats.jsm);
  const snapshots = natsSnapshotStore(nats.nc, {
    replicas: natsReplicas(config.CV_NATS_REPLICAS, nats.nc.info),
  });
  const archive = new EventArchive(clickhouse, config.CLICKHOUSE_DATABASE);
  const commands = new CommandHandler(events, {
    // A workflow's cold load reads its latest snapshot and the commits after it, not its whole life.
    snapshots,
    // Commits retention moved out of the log, for a subject read from before its oldest kept commit.
    archive,
    // Events name the trace of the command that decided them (the request's, the reaction's).
    traceContext: () => activeTraceContext(),
    onConflict: (subject, _attempt, retrying) =>
      meters().commandConflicts.add(1, {
        'chronoverse.aggregate.kind': subject.split('.')[3] ?? 'unknown',
        'chronoverse.command.conflict.outcome': retrying ? 'retried' : 'gave_up',
      }),
  });
  const readinessProbes: Record<string, Probe> = {
    nats: () => nats.nc.rtt(),
    postgres: () => sql`select 1`.execute(db),
    clickhouse: async () => {
      const r = await clickhouse.ping();
      if (!r.success) throw r.error;
    },
    docker: () => docker.ping(),
  };
  return {
    config,
    log,
    nats,
    db,
    clickhouse,
    docker,
    events,
    commands,
    snapshots,
    archive,
    readinessProbes,
    async close() {
      await nats.nc.drain().catch(() => nats.nc.close());
      await db.destroy();
      await clickhouse.close();
    },
  };
}
