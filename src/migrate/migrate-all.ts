// Brings every store to the declared schema: PostgreSQL, ClickHouse, JetStream. Every role runs it
// before serving; all three steps are idempotent and safe to run from several processes at once.

import type { Kysely } from 'kysely';
import type { Config } from '../config/config.ts';
import { streamDefinitions } from '../events/stream-definitions.ts';
import { connectClickhouse } from '../infra/clickhouse-connection.ts';
import type { Database } from '../infra/database.ts';
import { type Nats, natsReplicas } from '../infra/nats-connection.ts';
import { migrateClickhouse } from './clickhouse-migrator.ts';
import { type ReconcileAction, reconcileStreams } from './jetstream-topology.ts';
import { migratePostgres } from './postgres-migrator.ts';

export interface MigrationReport {
  postgres: string[];
  clickhouse: string[];
  jetstream: ReconcileAction[];
}

export async function migrateAll(
  config: Config,
  deps: { db: Kysely<Database>; nats: Nats },
  options: { scaleReplicas?: boolean } = {},
): Promise<MigrationReport> {
  const replicas = natsReplicas(config.CV_NATS_REPLICAS, deps.nats.nc.info);
  const server = connectClickhouse(
    {
      url: config.CLICKHOUSE_URL,
      database: config.CLICKHOUSE_DATABASE,
      username: config.CLICKHOUSE_USER,
      password: config.CLICKHOUSE_PASSWORD,
    },
    null,
  );
  try {
    const [postgres, clickhouse, jetstream] = await Promise.all([
      migratePostgres(deps.db),
      migrateClickhouse(server, config.CLICKHOUSE_DATABASE),
      reconcileStreams(
        deps.nats.jsm,
        streamDefinitions({ logBufferMaxAgeHours: config.CV_LOG_BUFFER_MAX_AGE_HOURS, replicas }),
        options,
      ),
    ]);
    return { postgres, clickhouse, jetstream };
  } finally {
    await server.close();
  }
}
