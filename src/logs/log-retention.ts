// Retention of job logs in days. ClickHouse 18.16 has no table TTL, so whole daily partitions
// (toYYYYMMDD of the line's time) older than the limit are dropped.
import type { ClickHouseClient } from '@clickhouse/client';
import { assertIdentifier } from '../assert.ts';
import { quoteString } from '../infra/clickhouse-literal.ts';

/** Partitions (YYYYMMDD numbers) that lie wholly before `now - days`. */
export function expiredPartitions(partitions: readonly string[], now: Date, days: number): string[] {
  const cutoff = new Date(now.getTime() - days * 86_400_000);
  const cutoffKey = cutoff.getUTCFullYear() * 10_000 + (cutoff.getUTCMonth() + 1) * 100 + cutoff.getUTCDate();
  return partitions.filter((p) => /^\d{8}$/.test(p) && Number(p) < cutoffKey);
}

export async function dropExpiredLogPartitions(
  clickhouse: ClickHouseClient,
  database: string,
  days: number,
  now: Date,
): Promise<string[]> {
  const db = assertIdentifier(database);
  const rs = await clickhouse.query({
    query: `SELECT DISTINCT partition FROM system.parts WHERE database = ${quoteString(db)} AND table = 'job_logs' AND active`,
    format: 'JSONEachRow',
  });
  const partitions = (await rs.json<{ partition: string }>()).map((r) => String(r.partition));
  const expired = expiredPartitions(partitions, now, days);
  for (const p of expired)
    await clickhouse.command({ query: `ALTER TABLE ${db}.job_logs DROP PARTITION ${p}` });
  return expired;
}
