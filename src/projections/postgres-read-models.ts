// The Postgres read models (users, workflows, jobs, notifications, analytics) as one projection, so
// that a notification can read the user's preference and a job its workflow at exactly the point of
// the log where the event stands. A batch loads the rows it touches, applies the events in memory
// (read-model-reducer.ts), and writes back in bulk.
import { sql, type Transaction } from 'kysely';
import type { StoredCommit } from '../events/event-store.ts';
import type { Database, WorkflowTickTable as WorkflowTickRow } from '../infra/database.ts';
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
    return row ? [postgresSafe(row)] : [];
  });
}

/** Every column but the key is replaced: the working set holds the whole row. */
function replaceAll<T extends object>(row: T, key: keyof T) {
  return Object.fromEntries(
    Object.keys(row)
      .filter((c) => c !== key)
      .map((c) => [c, sql.ref(`excluded.${c}`)]),
  );
}

const CHUNK = 1000;
function chunks<T>(rows: T[]): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < rows.length; i += CHUNK) out.push(rows.slice(i, i + CHUNK));
  return out;
}

async function write(tx: Tx, ws: ReadModelWorkingSet): Promise<void> {
  const users = pick(ws.users, ws.changed.users);
  for (const rows of chunks(users)) {
    await tx
      .insertInto('users')
      .values(rows)
      .onConflict((oc) => oc.column('id').doUpdateSet(replaceAll(rows[0]!, 'id')))
      .execute();
  }
  // node-postgres writes plain objects as JSON, which is what the jsonb columns take.
  const workflows = pick(ws.workflows, ws.changed.workflows);
  for (const rows of chunks(workflows)) {
    await tx
      .insertInto('workflows')
      .values(rows)
      .onConflict((oc) => oc.column('id').doUpdateSet(replaceAll(rows[0]!, 'id')))
      .execute();
  }
  const jobs = pick(ws.jobs, ws.changed.jobs);
  for (const rows of chunks(jobs)) {
    await tx
      .insertInto('jobs')
      .values(rows)
      .onConflict((oc) => oc.column('id').doUpdateSet(replaceAll(rows[0]!, 'id')))
      .execute();
  }
  const wStats = pick(ws.workflowStats, ws.changed.workflowStats);
  for (const rows of chunks(wStats)) {
    await tx
      .insertInto('workflow_stats')
      .values(rows)
      .onConflict((oc) => oc.column('workflow_id').doUpdateSet(replaceAll(rows[0]!, 'workflow_id')))
      .execute();
  }
  const uStats = pick(ws.userStats, ws.changed.userStats);
  for (const rows of chunks(uStats)) {
    await tx
      .insertInto('user_stats')
      .values(rows)
      .onConflict((oc) => oc.column('user_id').doUpdateSet(replaceAll(rows[0]!, 'user_id')))
      .execute();
  }
  for (const rows of chunks(ws.notifications.map(postgresSafe))) {
    await tx
      .insertInto('notifications')
      .values(rows)
      .onConflict((oc) => oc.column('id').doNothing())
      .execute();
  }
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
  for (const rows of chunks(decidedTicks)) {
    await tx
      .insertInto('workflow_ticks')
      .values(rows)
      .onConflict((oc) =>
        oc.columns(['workflow_id', 'nominal_at']).doUpdateSet((eb) => ({
          outcome: eb.ref('excluded.outcome'),
          reason: eb.ref('excluded.reason'),
          job_id: eb.ref('excluded.job_id'),
          fire_at: eb.ref('excluded.fire_at'),
          recorded_at: eb.ref('excluded.recorded_at'),
        })),
      )
      .execute();
  }
  for (const rows of chunks(ws.backfills)) {
    await tx
      .insertInto('backfills')
      .values(rows)
      .onConflict((oc) => oc.column('id').doNothing())
      .execute();
  }
  // A backfilled tick the ledger already holds (fired or skipped by the schedule) keeps that record;
  // the backfill's own job is listed under the backfill.
  for (const rows of chunks(ws.backfillTicks)) {
    await tx
      .insertInto('workflow_ticks')
      .values(rows)
      .onConflict((oc) => oc.columns(['workflow_id', 'nominal_at']).doNothing())
      .execute();
  }
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
  // A batch is a transaction of a dozen statements however few commits it holds: under a steady
  // stream, gathering for up to 20 ms cut the projector's CPU per commit (heartbeat benchmark) for
  // at most that much more staleness.
  minBatchIntervalMs: 20,
  async applyBatch(tx, commits) {
    const ws = await load(tx, commits);
    applyCommits(ws, commits);
    await write(tx, ws);
  },
  async reset(tx) {
    await sql`truncate ${sql.join(readModelTables.map((t) => sql.table(t)))}`.execute(tx);
  },
};
