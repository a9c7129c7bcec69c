// The archive of the event log read by subject (ClickHouse event_archive, written by the retention
// sweep in src/projections/retention-sweep.ts): the history and the state of a finished job after
// its commits left the hot log.
import type { ClickHouseClient } from '@clickhouse/client';
import { assertIdentifier } from '../assert.ts';
import { decodeCommit, type StoredCommit } from '../events/event-store.ts';
import type { ArchiveReader } from '../events/history.ts';
import { quoteString } from '../infra/clickhouse-literal.ts';

export class ArchivedHistory implements ArchiveReader {
  private readonly table: string;

  constructor(
    private readonly clickhouse: ClickHouseClient,
    database: string,
  ) {
    this.table = `${assertIdentifier(database)}.event_archive`;
  }

  async read(subject: string, after: number, limit: number): Promise<StoredCommit[]> {
    const rs = await this.clickhouse.query({
      query: `SELECT sequence, commit FROM ${this.table} FINAL
        WHERE subject = ${quoteString(subject)} AND sequence > ${Math.trunc(after)}
        ORDER BY sequence LIMIT ${Math.trunc(limit)}`,
      format: 'JSONEachRow',
      clickhouse_settings: { output_format_json_quote_64bit_integers: 0 },
    });
    const rows = await rs.json<{ sequence: number; commit: string }>();
    return rows.map((r) => ({
      sequence: Number(r.sequence),
      subject,
      events: decodeCommit(new TextEncoder().encode(r.commit)),
    }));
  }
}
