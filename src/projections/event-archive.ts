// The archive of the event log: commits of finished jobs, copied to ClickHouse (event_archive) before
// the retention sweep purges them from CV_EVENTS. A row is one commit exactly as the log held it: its
// stream sequence, its subject and its JSON, so a rebuild can replay archive and log as one history.
// Writes are idempotent (ReplacingMergeTree on subject and sequence); every read uses FINAL.
import type { ClickHouseClient } from '@clickhouse/client';
import { assertIdentifier } from '../assert.ts';
import { decodeCommit, type StoredCommit } from '../events/event-store.ts';
import type { ArchiveReader } from '../events/history.ts';
import { parseEventSubject } from '../events/subjects.ts';
import { quoteString } from '../infra/clickhouse-literal.ts';

/** A commit as the archive stores it: `commit` is the JSON array of its events, as appended. */
export interface ArchivedCommit {
  readonly sequence: number;
  readonly subject: string;
  readonly commit: string;
}

/** A row of event_archive as read back: the commit with its sequence and subject. */
function storedCommit(row: { sequence: number; subject: string; commit: string }): StoredCommit {
  return {
    sequence: Number(row.sequence),
    subject: row.subject,
    events: decodeCommit(new TextEncoder().encode(row.commit)),
  };
}

/** Written by the retention sweep; read by history, actor loads (`ArchiveReader`) and rebuilds. */
export class EventArchive implements ArchiveReader {
  private readonly table: string;

  constructor(
    private readonly clickhouse: ClickHouseClient,
    database: string,
  ) {
    this.table = `${assertIdentifier(database)}.event_archive`;
  }

  async write(commits: readonly ArchivedCommit[], archivedAt: Date): Promise<void> {
    if (commits.length === 0) return;
    const at = Math.floor(archivedAt.getTime() / 1000);
    await this.clickhouse.insert({
      table: this.table,
      format: 'JSONEachRow',
      values: commits.map((c) => {
        const { userId, aggregate, aggregateId } = parseEventSubject(c.subject);
        return {
          sequence: c.sequence,
          subject: c.subject,
          user_id: userId,
          aggregate,
          aggregate_id: aggregateId,
          commit: c.commit,
          archived_at: at,
        };
      }),
    });
  }

  /** For each of `subjects` the archive holds: its distinct commits and the last one's sequence. */
  async held(subjects: readonly string[]): Promise<Map<string, { commits: number; lastSequence: number }>> {
    const held = new Map<string, { commits: number; lastSequence: number }>();
    if (subjects.length === 0) return held;
    const rs = await this.clickhouse.query({
      query: `SELECT subject, count() AS commits, max(sequence) AS last FROM ${this.table} FINAL
        WHERE subject IN (${subjects.map(quoteString).join(', ')}) GROUP BY subject`,
      format: 'JSONEachRow',
      clickhouse_settings: { output_format_json_quote_64bit_integers: 0 },
    });
    for (const row of await rs.json<{ subject: string; commits: number; last: number }>()) {
      held.set(row.subject, { commits: Number(row.commits), lastSequence: Number(row.last) });
    }
    return held;
  }

  /** The subject's archived commits with a sequence above `after`, oldest first, `limit` at most. */
  async read(subject: string, after: number, limit: number): Promise<StoredCommit[]> {
    const rs = await this.clickhouse.query({
      query: `SELECT sequence, subject, commit FROM ${this.table} FINAL
        WHERE subject = ${quoteString(subject)} AND sequence > ${Math.trunc(after)}
        ORDER BY sequence LIMIT ${Math.trunc(limit)}`,
      format: 'JSONEachRow',
      clickhouse_settings: { output_format_json_quote_64bit_integers: 0 },
    });
    return (await rs.json<{ sequence: number; subject: string; commit: string }>()).map(storedCommit);
  }

  /** Whether anything has been archived at all. */
  async holdsAny(): Promise<boolean> {
    const rs = await this.clickhouse.query({
      query: `SELECT 1 FROM ${this.table} LIMIT 1`,
      format: 'JSONEachRow',
    });
    return (await rs.json()).length > 0;
  }

  /**
   * Every archived commit, oldest first, streamed: one sorted read of the archive for a rebuild,
   * whatever its size (memory holds a block of rows at a time).
   */
  async *all(): AsyncGenerator<StoredCommit> {
    const rs = await this.clickhouse.query({
      query: `SELECT sequence, subject, commit FROM ${this.table} FINAL ORDER BY sequence`,
      format: 'JSONEachRow',
      clickhouse_settings: { output_format_json_quote_64bit_integers: 0 },
    });
    const rows = rs.stream<{ sequence: number; subject: string; commit: string }>();
    try {
      for await (const chunk of rows) {
        for (const row of chunk) yield storedCommit(row.json());
      }
    } finally {
      rows.destroy();
    }
  }
}
