// Job events into ClickHouse for trends. The insert is not in the Postgres transaction, but it is
// idempotent (ReplacingMergeTree on event_id), so a batch replayed after a crash changes nothing.
import type { ClickHouseClient } from '@clickhouse/client';
import { assertIdentifier } from '../assert.ts';
import type { EventEnvelope } from '../events/envelope.ts';
import { upsertRows } from './postgres-bulk-upsert.ts';
import type { Projection } from './projection.ts';

export interface JobEventRow {
  event_id: string;
  sequence: number;
  user_id: string;
  workflow_id: string;
  job_id: string;
  type: string;
  attempt: number;
  failure_kind: string;
  reason: string;
  duration_ms: number;
  occurred_at: number;
  occurred_ms: number;
}

/** The row for one job event; `startedAt` is the attempt's start when known (for durations). */
export function jobEventRow(
  e: EventEnvelope,
  sequence: number,
  workflowId: string,
  startedAt: number | undefined,
): JobEventRow {
  const at = Date.parse(e.occurredAt);
  const data = e.data as { attempt?: number; next_attempt?: number; failure_kind?: string; reason?: string };
  const ends = e.type === 'JobCompleted' || e.type === 'JobFailed' || e.type === 'JobCanceled';
  return {
    event_id: e.id,
    sequence,
    user_id: e.userId,
    workflow_id: workflowId,
    job_id: e.aggregateId,
    type: e.type,
    attempt: data.attempt ?? data.next_attempt ?? 0,
    failure_kind: data.failure_kind ?? '',
    reason: data.reason ?? '',
    duration_ms: ends && startedAt !== undefined ? Math.max(0, at - startedAt) : 0,
    occurred_at: Math.floor(at / 1000),
    occurred_ms: at % 1000,
  };
}

export function clickhouseJobEvents(clickhouse: ClickHouseClient, database: string): Projection {
  const table = `${assertIdentifier(database)}.job_events`;
  return {
    name: 'clickhouse_job_events',
    // 2: its own job state in Postgres (no scan of ClickHouse per batch).
    version: 2,
    // The whole log, not just job subjects: the checkpoint then says "caught up to here" in the
    // stream's terms, which is what readers waiting on a sequence need.
    subjects: ['cv.evt.>'],
    // Every insert is a part ClickHouse must write and merge: one a second, not one per few commits.
    minBatchIntervalMs: 1000,
    async applyBatch(tx, allCommits) {
      const commits = allCommits.filter((c) => c.events[0]?.aggregate === 'job');
      const jobIds = [...new Set(commits.flatMap((c) => c.events.map((e) => e.aggregateId)))];
      const known = jobIds.length
        ? await tx.selectFrom('job_event_state').selectAll().where('job_id', 'in', jobIds).execute()
        : [];
      const state = new Map(
        known.map((r) => [r.job_id, { workflow_id: r.workflow_id, started_at: r.started_at?.getTime() }]),
      );
      const changed = new Set<string>();
      const rows: JobEventRow[] = [];
      for (const c of commits) {
        for (const e of c.events) {
          if (e.type === 'JobCreated' && !state.has(e.aggregateId)) {
            state.set(e.aggregateId, { workflow_id: e.data.workflow_id, started_at: undefined });
            changed.add(e.aggregateId);
          }
          const job = state.get(e.aggregateId);
          if (e.type === 'JobStarted' && job) {
            job.started_at = Date.parse(e.occurredAt);
            changed.add(e.aggregateId);
          }
          rows.push(jobEventRow(e, c.sequence, job?.workflow_id ?? '', job?.started_at));
        }
      }
      if (changed.size) {
        const upserts = [...changed].map((job_id) => {
          const s = state.get(job_id)!;
          return {
            job_id,
            workflow_id: s.workflow_id,
            started_at: s.started_at === undefined ? null : new Date(s.started_at),
          };
        });
        await upsertRows(tx, 'job_event_state', ['job_id'], upserts, { update: ['started_at'] });
      }
      if (rows.length) await clickhouse.insert({ table, values: rows, format: 'JSONEachRow' });
    },
    async reset(tx) {
      await clickhouse.command({ query: `TRUNCATE TABLE IF EXISTS ${table}` });
      await tx.deleteFrom('job_event_state').execute();
    },
  };
}

/** Counts for tests and analytics: distinct events per type, replays collapsed. */
export async function countJobEvents(
  clickhouse: ClickHouseClient,
  database: string,
): Promise<Record<string, number>> {
  const rs = await clickhouse.query({
    query: `SELECT type, uniqExact(event_id) AS n FROM ${assertIdentifier(database)}.job_events GROUP BY type ORDER BY type`,
    format: 'JSONEachRow',
  });
  return Object.fromEntries((await rs.json<{ type: string; n: number }>()).map((r) => [r.type, Number(r.n)]));
}
