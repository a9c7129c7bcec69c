// The workflows read model: one of the caller's workflows, and the caller's list, filtered and paged
// newest first. Every read is scoped by user: another user's workflow does not exist.
import { sql } from 'kysely';
import type { CommandHandler } from '../actors/command-handler.ts';
import { workflowDecider } from '../actors/workflow-decider.ts';
import { NotFoundError } from '../errors.ts';
import type { WorkflowRow, WorkflowTable } from '../infra/database.ts';
import type { Db } from './db.ts';
import { keysetPage, newestFirst, type Page } from './paging.ts';

/** The caller's workflow; workflow_not_found when there is none (or it is another user's). */
export async function findWorkflow(db: Db, userId: string, id: string): Promise<WorkflowRow> {
  const row = await db
    .selectFrom('workflows')
    .selectAll()
    .where('id', '=', id)
    .where('user_id', '=', userId)
    .executeTakeFirst();
  if (!row) throw new NotFoundError('workflow_not_found', 'No such workflow');
  return row;
}

/**
 * The caller's workflow as its actor has it now, replayed from the log (what a command on it will
 * see): workflow_not_found when there is none.
 */
export async function workflowFromLog(commands: CommandHandler, userId: string, id: string) {
  const current = await commands.load(workflowDecider, userId, id);
  if (!current.exists) throw new NotFoundError('workflow_not_found', 'No such workflow');
  return current.state.context;
}

export interface WorkflowFilter {
  /** Case-insensitive substring of the name; `%` and `_` match themselves. */
  readonly query?: string | undefined;
  readonly kind?: WorkflowTable['kind'] | undefined;
  readonly status?: WorkflowTable['status'] | undefined;
  readonly build_status?: WorkflowTable['build_status'] | undefined;
  readonly interval_min?: number | undefined;
  readonly interval_max?: number | undefined;
  readonly cursor?: string | undefined;
  readonly limit: number;
}

/** `%` and `_` match themselves in a LIKE pattern built from user text. */
export function likePattern(text: string): string {
  return `%${text.replace(/[\\%_]/g, (ch) => `\\${ch}`)}%`;
}

/** A page of the caller's workflows, newest first. */
export async function listWorkflows(db: Db, userId: string, f: WorkflowFilter): Promise<Page<WorkflowRow>> {
  let query = db.selectFrom('workflows').selectAll().where('user_id', '=', userId);
  if (f.query) query = query.where(sql<boolean>`name ilike ${likePattern(f.query)}`);
  if (f.kind) query = query.where('kind', '=', f.kind);
  if (f.status) query = query.where('status', '=', f.status);
  if (f.build_status) query = query.where('build_status', '=', f.build_status);
  if (f.interval_min !== undefined) query = query.where('interval_minutes', '>=', f.interval_min);
  if (f.interval_max !== undefined) query = query.where('interval_minutes', '<=', f.interval_max);
  const after = newestFirst.after(f.cursor);
  if (after) query = query.where(after);
  const rows = await query
    .orderBy('created_at', 'desc')
    .orderBy('id', 'desc')
    .limit(f.limit + 1)
    .execute();
  return keysetPage(rows, f.limit, newestFirst.key);
}

/** Every chain of the caller's workflows that are not deleted, with their names (to name a cycle). */
export async function chainsOf(
  db: Db,
  userId: string,
): Promise<Map<string, { name: string; chain: WorkflowRow['chain'] }>> {
  const rows = await db
    .selectFrom('workflows')
    .select(['id', 'name', 'chain'])
    .where('user_id', '=', userId)
    .execute();
  return new Map(rows.map((r) => [r.id, { name: r.name, chain: r.chain }]));
}
