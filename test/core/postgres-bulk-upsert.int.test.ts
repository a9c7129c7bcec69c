// The projections' bulk writes against real PostgreSQL: rows sent as one jsonb parameter come back
// with every column type the read models use intact, NUL in text is replaced rather than refused,
// and each conflict rule does what it says.
import { describe, expect, it } from 'vitest';
import { upsertRows } from '../../src/projections/postgres-bulk-upsert.ts';
import { useTestEnvironment } from '../support/test-environment.ts';

const env = useTestEnvironment();

const workflowRow = (id: string, name: string, payload: Record<string, unknown>) => ({
  id,
  user_id: 'u-bulk',
  name,
  kind: 'HEARTBEAT' as const,
  payload,
  schedule: { type: 'interval' as const, minutes: 5 },
  interval_minutes: 5,
  status: 'ACTIVE' as const,
  build_status: 'NONE' as const,
  build_error: null,
  image_digest: null,
  max_consecutive_job_failures_allowed: 3,
  log_retention: false,
  consecutive_job_failures: 0,
  last_fired_at: null,
  last_tick_at: new Date('2026-12-07T10:00:00.123Z'),
  tick_withdrawals: 0,
  chain: null,
  terminated_at: null,
  terminated_reason: null,
  created_at: new Date('2026-12-07T09:00:00.000Z'),
  updated_at: new Date('2026-12-07T09:30:00.000Z'),
  version: 9_007_199_254_740_000,
});

describe('bulk upserts', () => {
  it('write every column type as given, with NUL replaced, and replace whole rows on conflict', async () => {
    const db = env.runtime.db;
    await db.transaction().execute(async (tx) => {
      await upsertRows(
        tx,
        'workflows',
        ['id'],
        [
          workflowRow('wf-bulk-1', 'plain', { url: 'https://example.com/a', headers: { 'x-a': '1' } }),
          // A NUL in a column and inside the jsonb; a backslash followed by "u0000" is ordinary text.
          workflowRow('wf-bulk-2', 'nul\u0000here', { note: 'in\u0000json', literal: '\\u0000' }),
        ],
        { update: 'all' },
      );
    });
    const rows = await db
      .selectFrom('workflows')
      .selectAll()
      .where('user_id', '=', 'u-bulk')
      .orderBy('id')
      .execute();
    expect(rows).toHaveLength(2);
    expect(rows[0]).toMatchObject({
      name: 'plain',
      payload: { url: 'https://example.com/a', headers: { 'x-a': '1' } },
      schedule: { type: 'interval', minutes: 5 },
      log_retention: false,
      build_error: null,
      last_tick_at: new Date('2026-12-07T10:00:00.123Z'),
      version: 9_007_199_254_740_000,
    });
    expect(rows[1]!.name).toBe('nul\uFFFDhere');
    expect(rows[1]!.payload).toEqual({ note: 'in\uFFFDjson', literal: '\\u0000' });

    // update 'all': the second write wins in every column; 'nothing' leaves the row as it was.
    await db.transaction().execute(async (tx) => {
      await upsertRows(
        tx,
        'workflows',
        ['id'],
        [{ ...workflowRow('wf-bulk-1', 'renamed', {}), version: 10 }],
        {
          update: 'all',
        },
      );
      await upsertRows(tx, 'workflows', ['id'], [workflowRow('wf-bulk-2', 'ignored', {})], {
        update: 'nothing',
      });
    });
    const after = await db
      .selectFrom('workflows')
      .select(['id', 'name', 'payload', 'version'])
      .where('user_id', '=', 'u-bulk')
      .orderBy('id')
      .execute();
    expect(after).toEqual([
      { id: 'wf-bulk-1', name: 'renamed', payload: {}, version: 10 },
      {
        id: 'wf-bulk-2',
        name: 'nul\uFFFDhere',
        payload: { note: 'in\uFFFDjson', literal: '\\u0000' },
        version: 9_007_199_254_740_000,
      },
    ]);
  });

  it('update only the named columns on a composite key', async () => {
    const db = env.runtime.db;
    const tick = (outcome: 'fired' | 'skipped', reason: string | null, userId: string) => ({
      workflow_id: 'wf-bulk-ticks',
      nominal_at: new Date('2026-12-07T11:00:00.000Z'),
      user_id: userId,
      outcome,
      reason,
      job_id: null,
      fire_at: null,
      recorded_at: new Date('2026-12-07T11:00:01.000Z'),
    });
    await db.transaction().execute((tx) =>
      upsertRows(tx, 'workflow_ticks', ['workflow_id', 'nominal_at'], [tick('fired', null, 'u-first')], {
        update: ['outcome', 'reason'],
      }),
    );
    await db.transaction().execute((tx) =>
      upsertRows(
        tx,
        'workflow_ticks',
        ['workflow_id', 'nominal_at'],
        [tick('skipped', 'paused', 'u-second')],
        {
          update: ['outcome', 'reason'],
        },
      ),
    );
    const rows = await db
      .selectFrom('workflow_ticks')
      .selectAll()
      .where('workflow_id', '=', 'wf-bulk-ticks')
      .execute();
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ outcome: 'skipped', reason: 'paused', user_id: 'u-first' });
  });
});
