// The ClickHouse log queries of src/queries/logs.ts against a real, migrated database: keyset pages
// both ways with their cursors, search with match offsets, the streamed read, counts and the last
// key, all scoped by user, workflow and job; a replayed batch (same keys) counts once.
import { describe, expect, it } from 'vitest';
import { ValidationError } from '../../src/errors.ts';
import type { LogBatch } from '../../src/logs/log-batch.ts';
import { logRows } from '../../src/logs/log-rows.ts';
import { decodeLogCursor, type LogKey, LogQueries, type LogScope, ZERO_KEY } from '../../src/queries/logs.ts';
import { encodeCursor, type Page } from '../../src/queries/paging.ts';
import { newId } from '../support/fixtures.ts';
import { useTestEnvironment } from '../support/test-environment.ts';

const env = useTestEnvironment();

async function store(scope: LogScope, attempt: number, lines: [number, 'stdout' | 'stderr', string][]) {
  const batch: LogBatch = {
    workflow_id: scope.workflowId,
    job_id: scope.jobId,
    attempt,
    lines: lines.map(([seq, stream, line]) => ({ seq, stream, line, ts: Date.UTC(2026, 10, 27, 10) + seq })),
  };
  await env.runtime.clickhouse.insert({
    table: `${env.config.CLICKHOUSE_DATABASE}.job_logs`,
    values: logRows(`cv.logs.${scope.userId}.${scope.jobId}`, batch),
    format: 'JSONEachRow',
  });
}

const keys = (page: Page<{ attempt: number; sequence_num: number }>) =>
  page.items.map((l) => `${l.attempt}:${l.sequence_num}`);

describe('log queries', () => {
  it('page, search, stream, count and find the last key of one job’s lines', async () => {
    const queries = new LogQueries(env.runtime.clickhouse, env.config.CLICKHOUSE_DATABASE);
    const scope = { userId: newId(), workflowId: newId(), jobId: newId() };
    await store(scope, 1, [
      [1, 'stdout', 'hello'],
      [2, 'stderr', 'Hello again, HELLO'],
      [3, 'stdout', 'bye'],
    ]);
    await store(scope, 2, [
      [1, 'stdout', 'retry hello'],
      [2, 'stdout', '{"a":1}'],
    ]);
    // Replayed: the same keys again, collapsed by FINAL.
    await store(scope, 2, [[2, 'stdout', '{"a":1}']]);
    // Another job of the same user and workflow, and another user's job with the same ids.
    await store({ ...scope, jobId: newId() }, 1, [[1, 'stdout', 'hello elsewhere']]);
    await store({ ...scope, userId: newId() }, 1, [[1, 'stdout', 'hello from another user']]);

    const desc = await queries.page(scope, { order: 'desc', limit: 2 });
    expect(keys(desc)).toEqual(['2:2', '2:1']);
    expect(desc.next_cursor).toBe(encodeCursor([2, 1]));
    const rest = await queries.page(scope, {
      order: 'desc',
      limit: 10,
      cursor: decodeLogCursor(desc.next_cursor ?? undefined),
    });
    expect(keys(rest)).toEqual(['1:3', '1:2', '1:1']);
    expect(rest.next_cursor).toBeNull();
    const asc = await queries.page(scope, { order: 'asc', limit: 2, cursor: { attempt: 1, sequence: 1 } });
    expect(keys(asc)).toEqual(['1:2', '1:3']);
    expect(keys(await queries.page(scope, { order: 'asc', limit: 9, stream: 'stderr' }))).toEqual(['1:2']);

    const found = await queries.page(scope, { order: 'asc', limit: 9, contains: 'HELLO' });
    expect(keys(found)).toEqual(['1:1', '1:2', '2:1']);
    expect(found.items[1]).toMatchObject({
      message: 'Hello again, HELLO',
      stream: 'stderr',
      attempt: 1,
      sequence_num: 2,
      timestamp: new Date(Date.UTC(2026, 10, 27, 10) + 2).toISOString(),
    });
    expect(keys(await queries.page(scope, { order: 'asc', limit: 9, contains: '%' }))).toEqual([]);

    const streamed: string[] = [];
    for await (const line of queries.stream(scope, { after: { attempt: 1, sequence: 2 } }))
      streamed.push(`${line.attempt}:${line.sequence_num}`);
    expect(streamed).toEqual(['1:3', '2:1', '2:2']);

    expect(await queries.countLines({ userId: scope.userId })).toBe(6);
    expect(await queries.countLines({ userId: scope.userId, workflowId: scope.workflowId })).toBe(6);
    expect(await queries.countLines({ userId: scope.userId, workflowId: newId() })).toBe(0);
    expect(await queries.lastKey(scope)).toEqual<LogKey>({ attempt: 2, sequence: 2 });
    expect(await queries.lastKey({ ...scope, jobId: newId() })).toEqual(ZERO_KEY);
  });

  it('refuse a log cursor that holds no key', () => {
    expect(decodeLogCursor(undefined)).toBeUndefined();
    expect(decodeLogCursor(encodeCursor([1, 7]))).toEqual({ attempt: 1, sequence: 7 });
    for (const bad of ['x', encodeCursor([1, -1]), encodeCursor([1.5, 2]), encodeCursor(['1', 2])])
      expect(() => decodeLogCursor(bad)).toThrow(ValidationError);
  });
});
