// The analytics read models: a user's totals and one workflow's, as the projections keep them in
// PostgreSQL (log line counts come from ClickHouse: LogQueries.countLines in logs.ts).
import type { UserStatsRow, WorkflowStatsRow } from '../infra/database.ts';
import type { Db } from './db.ts';

export function userStats(db: Db, userId: string): Promise<UserStatsRow | undefined> {
  return db.selectFrom('user_stats').selectAll().where('user_id', '=', userId).executeTakeFirst();
}

/** Scoped by the caller too: another user's workflow has no stats. */
export function workflowStats(
  db: Db,
  userId: string,
  workflowId: string,
): Promise<WorkflowStatsRow | undefined> {
  return db
    .selectFrom('workflow_stats')
    .selectAll()
    .where('workflow_id', '=', workflowId)
    .where('user_id', '=', userId)
    .executeTakeFirst();
}
