// Reads of ClickHouse `job_logs` for the log API: keyset pages, case-insensitive search with match
// offsets, a streaming read oldest first, and line counts for analytics. Every query is scoped by
// user (line reads also by workflow and job), reads FINAL (ReplacingMergeTree collapses replayed
// lines only at merge time), and quotes every value with the one literal function: ClickHouse 18.16
// has no query parameters.
import type { ClickHouseClient } from '@clickhouse/client';
import { assertIdentifier } from '../assert.ts';
import { quoteString } from '../infra/clickhouse-literal.ts';
import { decodeCursor, keysetPage, type Page } from './paging.ts';

export type LogStreamName = 'stdout' | 'stderr';

/** Whose lines: the owner comes from the session, never from the request. */
export interface LogScope {
  readonly userId: string;
  readonly workflowId: string;
  readonly jobId: string;
}

/** A line's place in a job's log: sequences restart at 1 with every attempt. */
export interface LogKey {
  readonly attempt: number;
  readonly sequence: number;
}

/** A stored line, as served by the API (the original's shape, plus the attempt). */
export interface ServedLogLine {
  /** RFC 3339 with milliseconds, UTC. */
  readonly timestamp: string;
  readonly message: string;
  readonly sequence_num: number;
  readonly stream: LogStreamName;
  readonly attempt: number;
}

export const ZERO_KEY: LogKey = { attempt: 0, sequence: 0 };

export function compareKeys(a: LogKey, b: LogKey): number {
  return a.attempt - b.attempt || a.sequence - b.sequence;
}

export function keyOf(line: ServedLogLine): LogKey {
  return { attempt: line.attempt, sequence: line.sequence_num };
}

/** The key a log page's cursor holds (a 422 naming `cursor` when it holds none). */
export function decodeLogCursor(cursor: string | undefined): LogKey | undefined {
  if (!cursor) return undefined;
  const [attempt, sequence] = decodeCursor(cursor, ['uint', 'uint']);
  return { attempt, sequence };
}

/**
 * The line that must come right after `key` when nothing is missing. Sequences are dense within an
 * attempt; across attempts nothing tells how many lines the earlier one had, so there is no successor.
 */
export function isSuccessor(key: LogKey, next: LogKey): boolean {
  if (key.attempt === 0) return next.attempt === 1 && next.sequence === 1;
  return next.attempt === key.attempt && next.sequence === key.sequence + 1;
}

interface Row {
  attempt: number;
  sequence: number;
  ts: number;
  ms: number;
  message: string;
  stream: LogStreamName;
}

function served(r: Row): ServedLogLine {
  return {
    timestamp: new Date(Number(r.ts) * 1000 + Number(r.ms)).toISOString(),
    message: r.message,
    sequence_num: Number(r.sequence),
    stream: r.stream,
    attempt: Number(r.attempt),
  };
}

function uint(n: number): string {
  if (!Number.isSafeInteger(n) || n < 0) throw new Error(`not an unsigned integer: ${n}`);
  return String(n);
}

export interface LineFilter {
  readonly stream?: LogStreamName | undefined;
  /** Lines strictly after this key (in ascending order). */
  readonly after?: LogKey | undefined;
  /** Lines strictly before this key (in ascending order). */
  readonly before?: LogKey | undefined;
  /** Case-insensitive substring of the message. */
  readonly contains?: string | undefined;
}

export class LogQueries {
  private readonly table: string;

  constructor(
    private readonly clickhouse: ClickHouseClient,
    database: string,
  ) {
    this.table = `${assertIdentifier(database)}.job_logs`;
  }

  private where(scope: LogScope, f: LineFilter): string {
    const conditions = [
      `user_id = ${quoteString(scope.userId)}`,
      `workflow_id = ${quoteString(scope.workflowId)}`,
      `job_id = ${quoteString(scope.jobId)}`,
    ];
    if (f.stream) conditions.push(`stream = ${quoteString(f.stream)}`);
    if (f.after) {
      const a = uint(f.after.attempt);
      conditions.push(`(attempt > ${a} OR (attempt = ${a} AND sequence > ${uint(f.after.sequence)}))`);
    }
    if (f.before) {
      const a = uint(f.before.attempt);
      conditions.push(`(attempt < ${a} OR (attempt = ${a} AND sequence < ${uint(f.before.sequence)}))`);
    }
    // positionCaseInsensitiveUTF8 exists on 18.16 and on current releases; it is a plain substring
    // search, so %, _ and backslashes in the text mean themselves.
    if (f.contains !== undefined)
      conditions.push(`positionCaseInsensitiveUTF8(message, ${quoteString(f.contains)}) > 0`);
    return conditions.join(' AND ');
  }

  private select(scope: LogScope, f: LineFilter, order: 'asc' | 'desc', limit?: number): string {
    const dir = order === 'asc' ? 'ASC' : 'DESC';
    return `SELECT attempt, sequence, toUInt32(timestamp) AS ts, timestamp_ms AS ms, message, toString(stream) AS stream
      FROM ${this.table} FINAL
      WHERE ${this.where(scope, f)}
      ORDER BY attempt ${dir}, sequence ${dir}${limit === undefined ? '' : ` LIMIT ${uint(limit)}`}`;
  }

  /**
   * One keyset page: `limit` lines after the cursor in `order`, and whether more follow. For
   * `desc`, "after" means older than the cursor.
   */
  async page(
    scope: LogScope,
    options: {
      order: 'asc' | 'desc';
      limit: number;
      cursor?: LogKey | undefined;
      stream?: LogStreamName | undefined;
      contains?: string | undefined;
    },
  ): Promise<Page<ServedLogLine>> {
    const filter: LineFilter = {
      stream: options.stream,
      contains: options.contains,
      ...(options.cursor
        ? options.order === 'asc'
          ? { after: options.cursor }
          : { before: options.cursor }
        : {}),
    };
    const rs = await this.clickhouse.query({
      query: this.select(scope, filter, options.order, options.limit + 1),
      format: 'JSONEachRow',
    });
    const rows = (await rs.json<Row>()).map(served);
    return keysetPage(rows, options.limit, (last) => [last.attempt, last.sequence_num]);
  }

  /** Every line that passes `filter`, oldest first, streamed: memory stays bounded for any log. */
  async *stream(scope: LogScope, filter: LineFilter = {}): AsyncGenerator<ServedLogLine> {
    const rs = await this.clickhouse.query({
      query: this.select(scope, filter, 'asc'),
      format: 'JSONEachRow',
    });
    const rows = rs.stream<Row>();
    try {
      for await (const chunk of rows) {
        for (const row of chunk) yield served(row.json());
      }
    } finally {
      // A consumer that stops early (client gone) must not leave the HTTP response open.
      rows.destroy();
    }
  }

  /**
   * How many lines are stored for the user, or for one of the user's workflows: what retention has
   * not dropped yet (a workflow with `log_retention: false` stores none). One query, by the table's
   * key prefix; FINAL so that a replayed batch is not counted twice before its parts merge.
   */
  async countLines(scope: { readonly userId: string; readonly workflowId?: string }): Promise<number> {
    const conditions = [`user_id = ${quoteString(scope.userId)}`];
    if (scope.workflowId !== undefined) conditions.push(`workflow_id = ${quoteString(scope.workflowId)}`);
    const rs = await this.clickhouse.query({
      query: `SELECT count() AS n FROM ${this.table} FINAL WHERE ${conditions.join(' AND ')}`,
      format: 'JSONEachRow',
    });
    const [row] = await rs.json<{ n: number }>();
    return Number(row?.n ?? 0);
  }

  /**
   * Lines stored per time bucket in [from, to): bucket starts as Unix seconds (UTC, a multiple of
   * `bucketSeconds`) → count. Buckets are computed on Unix seconds, not with toStartOfDay, so they
   * are UTC whatever the server's time zone.
   */
  async countLinesByBucket(
    scope: { readonly userId: string; readonly workflowId?: string },
    range: { readonly from: Date; readonly to: Date; readonly bucketSeconds: number },
  ): Promise<ReadonlyMap<number, number>> {
    const step = Math.trunc(range.bucketSeconds);
    const from = Math.floor(range.from.getTime() / 1000);
    const to = Math.floor(range.to.getTime() / 1000);
    const conditions = [
      `user_id = ${quoteString(scope.userId)}`,
      `timestamp >= toDateTime(${from})`,
      `timestamp < toDateTime(${to})`,
    ];
    if (scope.workflowId !== undefined) conditions.push(`workflow_id = ${quoteString(scope.workflowId)}`);
    const rs = await this.clickhouse.query({
      query: `SELECT intDiv(toUInt32(timestamp), ${step}) * ${step} AS t, count() AS n
        FROM ${this.table} FINAL WHERE ${conditions.join(' AND ')} GROUP BY t`,
      format: 'JSONEachRow',
      clickhouse_settings: { output_format_json_quote_64bit_integers: 0 },
    });
    const counts = new Map<number, number>();
    for (const row of await rs.json<{ t: number; n: number }>()) counts.set(Number(row.t), Number(row.n));
    return counts;
  }

  /** The greatest key stored for the job, ZERO_KEY when none is. */
  async lastKey(scope: LogScope): Promise<LogKey> {
    const rs = await this.clickhouse.query({
      query: `SELECT attempt, sequence FROM ${this.table} FINAL WHERE ${this.where(scope, {})}
        ORDER BY attempt DESC, sequence DESC LIMIT 1`,
      format: 'JSONEachRow',
    });
    const [row] = await rs.json<{ attempt: number; sequence: number }>();
    return row ? { attempt: Number(row.attempt), sequence: Number(row.sequence) } : ZERO_KEY;
  }
}

export interface MatchOffset {
  /** Offsets in Unicode code points, end exclusive. */
  readonly start: number;
  readonly end: number;
}

const fold = (cp: string): string => cp.toLowerCase();

/**
 * Every non-overlapping case-insensitive occurrence of `query` in `message`, as code point offsets,
 * folding one code point at a time as ClickHouse's positionCaseInsensitiveUTF8 does.
 */
export function matchOffsets(message: string, query: string): MatchOffset[] {
  const text = Array.from(message, fold);
  const needle = Array.from(query, fold);
  const found: MatchOffset[] = [];
  if (needle.length === 0) return found;
  outer: for (let i = 0; i + needle.length <= text.length; ) {
    for (let j = 0; j < needle.length; j++) {
      if (text[i + j] !== needle[j]) {
        i += 1;
        continue outer;
      }
    }
    found.push({ start: i, end: i + needle.length });
    i += needle.length;
  }
  return found;
}

/** The message as JSON when it is a JSON object or array, otherwise the text itself. */
export function parsedMessage(message: string): unknown {
  const first = message.trimStart()[0];
  if (first !== '{' && first !== '[') return message;
  try {
    return JSON.parse(message);
  } catch {
    return message;
  }
}
