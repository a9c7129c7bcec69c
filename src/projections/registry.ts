// Every projection of the system, built on a runtime's connections.
import type { Runtime } from '../runtime/runtime.ts';
import { clickhouseJobEvents } from './clickhouse-job-events.ts';
import { postgresReadModels } from './postgres-read-models.ts';
import type { Projection } from './projection.ts';

export function allProjections(runtime: Pick<Runtime, 'clickhouse' | 'config'>): Projection[] {
  return [postgresReadModels, clickhouseJobEvents(runtime.clickhouse, runtime.config.CLICKHOUSE_DATABASE)];
}
