// Where the streaming and analytics routes get NATS and ClickHouse: the API process's own connections.
import type { ClickHouseClient } from '@clickhouse/client';
import type { Config } from '../config/config.ts';
import type { Nats } from '../infra/nats-connection.ts';
import { LogQueries } from '../queries/logs.ts';

export interface StreamSources {
  nats(): Promise<Nats>;
  logQueries(): LogQueries;
}

export function streamSources(
  config: Config,
  given: { readonly nats: Nats; readonly clickhouse: ClickHouseClient },
): StreamSources {
  const queries = new LogQueries(given.clickhouse, config.CLICKHOUSE_DATABASE);
  return {
    nats: async () => given.nats,
    logQueries: () => queries,
  };
}
