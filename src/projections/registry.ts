// Every projection of the system, built on a runtime's connections.
import type { ClickHouseClient } from '@clickhouse/client';
import { clickhouseJobEvents } from './clickhouse-job-events.ts';
import { postgresReadModels } from './postgres-read-models.ts';
import type { Projection } from './projection.ts';

export function allProjections(runtime: {
  readonly clickhouse: ClickHouseClient;
  readonly config: { readonly CLICKHOUSE_DATABASE: string };
}): Projection[] {
  return [postgresReadModels, clickhouseJobEvents(runtime.clickhouse, runtime.config.CLICKHOUSE_DATABASE)];
}
