// The Postgres read models (users, workflows, jobs, notifications, analytics) as one projection, so
// that a notification can read the user's preference and a job its workflow at exactly the point of
// the log where the event stands. A batch loads the rows it touches, applies the events in memory
// (read-model-reducer.ts), and writes back in bulk.
import { sql, type Transaction } from 'kysely';
import type { StoredCommit } from '../events/event-store.ts';
import type { Database, WorkflowTickTable as WorkflowTickRow } from '../infra/database.ts';
import { upsertRows } from './postgres-bulk-upsert.ts';
import { postgresSafe } from './postgres-text.ts';
import type { Projection } from './projection.ts';
import { applyCommits, emptyWorkingSet, idsToLoad, type ReadModelWorkingSet } from './read-model-reducer.ts';

type Tx = Transaction<Database>;

async function load(tx: Tx, commits: readonly StoredCommit[]): Promise<ReadModelWorkingSet> {
  const ws = emptyWorkingSet();
  const ids = idsToLoad(commits);
  const jobs = ids.jobs.length
    ? await tx.selectFrom('jobs').selectAll().where('id', 'in', ids.jobs).execute()
    : [];
  for (const j of jobs) ws.jobs.set(j.id, j);
  const workflowIds = [...new Set([...ids.workflows, ...jobs.map((j) => j.workflow_id)])];
  const [workflows, wStats, users, uStats] = await Promise.all([
    workflowIds.length ? tx.selectFrom('workflows').selectAll().where('id', 'in', workflowIds).execute() : [],
    workflowIds.length
      ? tx.selectFrom('workflow_stats').selectAll().where('workflow_id', 'in', workflowIds).execute()
      : [],
    ids.users.length ? tx.selectFrom('users').selectAll().where('id', 'in', ids.users).execute() : [],
    ids.users.length
      ? tx.selectFrom('user_stats').selectAll().where('user_id', 'in', ids.users).execute()
      : [],
  ]);
  for (const w of workflows) ws.workflows.set(w.id, w);
  for (const s of wStats) ws.workflowStats.set(s.workflow_id, s);
  for (const u of users) ws.users.set(u.id, u);
  for (const s of uStats) ws.userStats.set(s.user_id, s);
  return ws;
}

function pick<T>(map: Map<string, T>, ids: Set<string>): T[] {
  return [...ids].flatMap((id) => {
    const row = map.get(id);
    return row ? [row] : [];
  });
}

async function write(tx: Tx, ws: ReadModelWorkingSet): Promise<void> {
  // The jsonb columns (a workflow's payload, schedule, chain) are objects in the rows, and stay JSON
  // inside the rows' JSON.
  await upsertRows(tx, 'users', ['id'], pick(ws.users, ws.changed.users), { update: 'all' });
  await upsertRows(tx, 'workflows', ['id'], pick(ws.workflows, ws.changed.workflows), { update: 'all' });
  await upsertRows(tx, 'jobs', ['id'], pick(ws.jobs, ws.changed.jobs), { update: 'all' });
  await upsertRows(tx, 'workflow_stats', ['workflow_id'], pick(ws.workflowStats, ws.changed.workflowStats), {
    update: 'all',
  });
  await upsertRows(tx, 'user_stats', ['user_id'], pick(ws.userStats, ws.changed.userStats), {
    update: 'all',
  });
  await upsertRows(tx, 'notifications', ['id'], ws.notifications, { update: 'nothing' });
  for (const mark of ws.readMarks) {
    await tx
      .updateTable('notifications')
      .set({ read_at: mark.at })
      .where('user_id', '=', mark.user_id)
      .where('id', 'in', mark.ids.map(postgresSafe))
      .where('read_at', 'is', null)
      .execute();
  }
  // A tick's later decision replaces an earlier one (a withdrawn tick decided again when due).
  const decidedTicks: WorkflowTickRow[] = [];
  for (const [key, row] of ws.ticks) {
    if (row) {
      decidedTicks.push(row);
      continue;
    }
    const [workflowId, nominal] = key.split(' ') as [string, string];
    await tx
      .deleteFrom('workflow_ticks')
      .where('workflow_id', '=', workflowId)
      .where('nominal_at', '=', new Date(nominal))
      .execute();
  }
  await upsertRows(tx, 'workflow_ticks', ['workflow_id', 'nominal_at'], decidedTicks, {
    update: ['outcome', 'reason', 'job_id', 'fire_at', 'recorded_at'],
  });
  await upsertRows(tx, 'backfills', ['id'], ws.backfills, { update: 'nothing' });
  // A backfilled tick the ledger already holds (fired or skipped by the schedule) keeps that record;
  // the backfill's own job is listed under the backfill.
  await upsertRows(tx, 'workflow_ticks', ['workflow_id', 'nominal_at'], ws.backfillTicks, {
    update: 'nothing',
  });
  if (ws.deletedWorkflows.size) {
    const ids = [...ws.deletedWorkflows];
    await tx.deleteFrom('jobs').where('workflow_id', 'in', ids).execute();
    await tx.deleteFrom('workflow_stats').where('workflow_id', 'in', ids).execute();
    await tx.deleteFrom('backfills').where('workflow_id', 'in', ids).execute();
    await tx.deleteFrom('workflows').where('id', 'in', ids).execute();
  }
}

export const readModelTables = [
  'users',
  'workflows',
  'jobs',
  'notifications',
  'workflow_stats',
  'user_stats',
  'workflow_ticks',
  'backfills',
] as const;

export const postgresReadModels: Projection = {
  name: 'read_models',
  // 2: the tick ledger and workflows.last_tick_at (a changed version rebuilds from the log).
  version: 2,
  subjects: ['cv.evt.>'],
  // A batch is a transaction of a dozen statements however few commits it holds, and at low rates
  // its cost is nearly all per batch: at 100 jobs/s, batches every 20 ms kept the projector at 29% of
  // a core and PostgreSQL at 16%, every 100 ms at 17% and 5% (heartbeat benchmark). So a batch of
  // fewer than 100 commits gathers for 100 ms, a bigger one for 20 ms, and a mutation whose answer
  // waits for its write hurries the projector back to 20 ms (ProjectionRunner.hurry). A commit after
  // a quiet spell is applied at once either way.
  minBatchIntervalMs: 20,
  batchIntervalMs: 100,
  worthwhileBatch: 100,
  async applyBatch(tx, commits) {
    const ws = await load(tx, commits);
    applyCommits(ws, commits);
    await write(tx, ws);
  },
  async reset(tx) {
    await sql`truncate ${sql.join(readModelTables.map((t) => sql.table(t)))}`.execute(tx);
  },
};
