// The tick ledger of a workflow: every nominal tick, fired (with its job) or skipped (with the
// reason), newest first, paged by nominal time.
import { type Selectable, sql } from 'kysely';
import type { WorkflowTickTable } from '../infra/database.ts';
import type { Db } from './db.ts';
import { decodeCursor, keysetPage, type Page } from './paging.ts';

export type TickRow = Selectable<WorkflowTickTable>;

export interface TickFilter {
  readonly outcome?: WorkflowTickTable['outcome'] | undefined;
  readonly cursor?: string | undefined;
  readonly limit: number;
}

/** A page of the caller's ticks of one workflow (the workflow's ownership is not checked here). */
export async function listTicks(
  db: Db,
  userId: string,
  workflowId: string,
  f: TickFilter,
): Promise<Page<TickRow>> {
  let query = db
    .selectFrom('workflow_ticks')
    .selectAll()
    .where('workflow_id', '=', workflowId)
    .where('user_id', '=', userId);
  if (f.outcome) query = query.where('outcome', '=', f.outcome);
  if (f.cursor) {
    const [at] = decodeCursor(f.cursor, ['date']);
    query = query.where(sql<boolean>`nominal_at < ${at}`);
  }
  const rows = await query
    .orderBy('nominal_at', 'desc')
    .limit(f.limit + 1)
    .execute();
  return keysetPage(rows, f.limit, (t) => [t.nominal_at.toISOString()]);
}
