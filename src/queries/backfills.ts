// A workflow's backfills, newest first, each with its progress: its jobs counted by status.
import { sql } from 'kysely';
import type { BackfillTable } from '../infra/database.ts';
import type { Db } from './db.ts';

export interface BackfillProgress extends BackfillTable {
  readonly pending: number;
  readonly running: number;
  readonly completed: number;
  readonly failed: number;
  readonly canceled: number;
}

/** The caller's backfills of one workflow (its ownership is checked by the caller), at most `limit`. */
export async function listBackfills(
  db: Db,
  userId: string,
  workflowId: string,
  limit = 100,
): Promise<BackfillProgress[]> {
  const count = (statuses: string) =>
    sql<string>`count(j.id) filter (where j.status in (${sql.raw(statuses)}))`;
  const rows = await db
    .selectFrom('backfills as b')
    .leftJoin('jobs as j', (join) => join.onRef('j.backfill_id', '=', 'b.id').on('j.user_id', '=', userId))
    .selectAll('b')
    .select([
      count(`'PENDING', 'QUEUED'`).as('pending'),
      count(`'RUNNING'`).as('running'),
      count(`'COMPLETED'`).as('completed'),
      count(`'FAILED'`).as('failed'),
      count(`'CANCELED'`).as('canceled'),
    ])
    .where('b.user_id', '=', userId)
    .where('b.workflow_id', '=', workflowId)
    .groupBy('b.id')
    .orderBy('b.created_at', 'desc')
    .limit(limit)
    .execute();
  return rows.map((r) => ({
    ...r,
    pending: Number(r.pending),
    running: Number(r.running),
    completed: Number(r.completed),
    failed: Number(r.failed),
    canceled: Number(r.canceled),
  }));
}
