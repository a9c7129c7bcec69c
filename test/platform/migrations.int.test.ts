// Every migration is idempotent: PostgreSQL, ClickHouse and JetStream each run twice without change.
import { RetentionPolicy } from '@nats-io/jetstream';
import { sql } from 'kysely';
import { describe, expect, it } from 'vitest';
import { streamDefinitions } from '../../src/events/stream-definitions.ts';
import { reconcileStreams } from '../../src/migrate/jetstream-topology.ts';
import { migrateAll } from '../../src/migrate/migrate-all.ts';
import { useTestEnvironment } from '../support/test-environment.ts';

const env = useTestEnvironment({ migrate: false });

describe('migrations', () => {
  it('apply everything once, then nothing on a second run', async () => {
    const first = await migrateAll(env.config, env.runtime);
    expect(first.postgres.length).toBeGreaterThan(0);
    expect(first.clickhouse.length).toBeGreaterThan(0);
    expect(first.jetstream.map((a) => a.action)).toEqual(['created', 'created', 'created', 'created']);

    const second = await migrateAll(env.config, env.runtime);
    expect(second).toEqual({
      postgres: [],
      clickhouse: [],
      jetstream: first.jetstream.map((a) => ({ stream: a.stream, action: 'unchanged' })),
    });

    const tables = await sql<{ table_name: string }>`
      select table_name from information_schema.tables where table_schema = 'public'`.execute(env.runtime.db);
    expect(tables.rows.map((r) => r.table_name)).toContain('projection_checkpoints');
    const chTables = await env.runtime.clickhouse.query({
      query: `SELECT name FROM system.tables WHERE database = '${env.config.CLICKHOUSE_DATABASE}' ORDER BY name`,
      format: 'JSONEachRow',
    });
    expect((await chTables.json<{ name: string }>()).map((r) => r.name)).toEqual([
      'event_archive',
      'job_events',
      'job_logs',
      'schema_migrations',
    ]);
    const applied = await env.runtime.clickhouse.query({
      query: `SELECT count() AS n FROM ${env.config.CLICKHOUSE_DATABASE}.schema_migrations`,
      format: 'JSONEachRow',
    });
    expect(await applied.json()).toEqual([{ n: first.clickhouse.length }]);
  });

  it('update a stream whose declared settings changed, keeping its messages', async () => {
    await env.runtime.nats.js.publish('cv.logs.u1.j1', 'line');
    const changed = streamDefinitions({ logBufferMaxAgeHours: 48 });
    const actions = await reconcileStreams(env.runtime.nats.jsm, changed);
    expect(actions.find((a) => a.stream === 'CV_LOGS')).toEqual({
      stream: 'CV_LOGS',
      action: 'updated',
      changed: ['max_age'],
    });
    expect((await env.runtime.nats.jsm.streams.info('CV_LOGS')).state.messages).toBe(1);
    expect(
      (await reconcileStreams(env.runtime.nats.jsm, changed)).every((a) => a.action === 'unchanged'),
    ).toBe(true);
  });

  it('leave a stream at its replica count when another is declared, unless told to scale it', async () => {
    // A single server: streams are R1. Declaring 3 (a move to a cluster) changes nothing by itself.
    const r3 = streamDefinitions({ logBufferMaxAgeHours: 48, replicas: 3 });
    const actions = await reconcileStreams(env.runtime.nats.jsm, r3);
    expect(actions.every((a) => a.action === 'unchanged')).toBe(true);
    expect(actions.map((a) => a.replicas)).toEqual(r3.map(() => ({ actual: 1, declared: 3 })));
    expect((await env.runtime.nats.jsm.streams.info('CV_EVENTS')).config.num_replicas).toBe(1);
    // A setting that does change is applied without carrying the replica count along.
    const longer = streamDefinitions({ logBufferMaxAgeHours: 72, replicas: 3 });
    const updated = await reconcileStreams(env.runtime.nats.jsm, longer);
    expect(updated.find((a) => a.stream === 'CV_LOGS')).toMatchObject({
      action: 'updated',
      changed: ['max_age'],
    });
    expect((await env.runtime.nats.jsm.streams.info('CV_LOGS')).config.num_replicas).toBe(1);
    // Asked to scale, it applies the count (a lone nats-server keeps one copy whatever is asked).
    const scaled = await reconcileStreams(env.runtime.nats.jsm, longer, { scaleReplicas: true });
    expect(scaled.map((a) => a.changed)).toEqual(longer.map(() => ['num_replicas']));
  });

  it('refuse to run on a stream whose retention differs, rather than change it', async () => {
    const wrong = streamDefinitions({ logBufferMaxAgeHours: 48 }).map((d) =>
      d.name === 'CV_EVENTS' ? { ...d, retention: RetentionPolicy.Workqueue } : d,
    );
    await expect(reconcileStreams(env.runtime.nats.jsm, wrong)).rejects.toThrow(
      /CV_EVENTS has retention "limits"/,
    );
  });
});
