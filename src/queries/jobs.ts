// The jobs read model (one job, a workflow's jobs paged newest first, a job's scheduled time), and a
// job's state as its actor has it, for reads that must not lag behind the log (the log routes).
import type { EventFromLogic } from 'xstate';
import type { CommandHandler } from '../actors/command-handler.ts';
import { jobDecider } from '../actors/job-decider.ts';
import type { JobMachine } from '../actors/job-machine.ts';
import { NotFoundError } from '../errors.ts';
import type { ArchiveReader } from '../events/history.ts';
import { eventSubject } from '../events/subjects.ts';
import type { JobRow, JobTable } from '../infra/database.ts';
import type { Db } from './db.ts';
import { keysetPage, newestFirst, type Page } from './paging.ts';

/** The caller's job of that workflow; job_not_found otherwise. */
export async function findJob(db: Db, userId: string, workflowId: string, jobId: string): Promise<JobRow> {
  const row = await db
    .selectFrom('jobs')
    .selectAll()
    .where('id', '=', jobId)
    .where('workflow_id', '=', workflowId)
    .where('user_id', '=', userId)
    .executeTakeFirst();
  if (!row) throw new NotFoundError('job_not_found', 'No such job');
  return row;
}

export interface JobFilter {
  readonly status?: JobTable['status'] | undefined;
  readonly trigger?: JobTable['trigger'] | undefined;
  readonly cursor?: string | undefined;
  readonly limit: number;
}

/** A page of the caller's jobs of one workflow, newest first (the workflow's ownership is not checked here). */
export async function listJobs(
  db: Db,
  userId: string,
  workflowId: string,
  f: JobFilter,
): Promise<Page<JobRow>> {
  let query = db
    .selectFrom('jobs')
    .selectAll()
    .where('workflow_id', '=', workflowId)
    .where('user_id', '=', userId);
  if (f.status) query = query.where('status', '=', f.status);
  if (f.trigger) query = query.where('trigger', '=', f.trigger);
  const after = newestFirst.after(f.cursor);
  if (after) query = query.where(after);
  const rows = await query
    .orderBy('created_at', 'desc')
    .orderBy('id', 'desc')
    .limit(f.limit + 1)
    .execute();
  return keysetPage(rows, f.limit, newestFirst.key);
}

/**
 * The newest job of each of the caller's workflows named (one index probe per workflow, on
 * jobs_workflow_page); a workflow without jobs has no entry.
 */
export async function lastJobs(
  db: Db,
  userId: string,
  workflowIds: readonly string[],
): Promise<Map<string, JobRow>> {
  if (workflowIds.length === 0) return new Map();
  const rows = await db
    .selectFrom('jobs')
    .selectAll()
    .distinctOn('workflow_id')
    .where('user_id', '=', userId)
    .where('workflow_id', 'in', workflowIds)
    .orderBy('workflow_id')
    .orderBy('created_at', 'desc')
    .orderBy('id', 'desc')
    .execute();
  return new Map(rows.map((r) => [r.workflow_id, r]));
}

/** When the job is scheduled, as the read model has it; null when it has no row (yet). */
export async function jobScheduledAt(db: Db, jobId: string): Promise<string | null> {
  const row = await db.selectFrom('jobs').select('scheduled_at').where('id', '=', jobId).executeTakeFirst();
  return row?.scheduled_at.toISOString() ?? null;
}

/**
 * A job as its actor has it now, replayed from the log, or from the archive once retention moved a
 * finished job's commits there (`archived`).
 */
async function jobFromLog(commands: CommandHandler, userId: string, jobId: string, archive?: ArchiveReader) {
  const job = await commands.load(jobDecider, userId, jobId);
  if (job.exists || !archive) return { exists: job.exists, state: job.state, archived: false };
  const commits = await archive.read(eventSubject(userId, 'job', jobId), 0, 10_000);
  const state = commits
    .flatMap((c) => c.events)
    .reduce(
      (s, e) => jobDecider.evolve(s, { type: e.type, data: e.data } as EventFromLogic<JobMachine>),
      jobDecider.initialState(),
    );
  return { exists: commits.length > 0, state, archived: commits.length > 0 };
}

/** The job's status as its actor has it now (the initial state's for a job that does not exist). */
export async function jobStatusFromLog(
  commands: CommandHandler,
  userId: string,
  jobId: string,
  archive?: ArchiveReader,
): Promise<string> {
  return String((await jobFromLog(commands, userId, jobId, archive)).state.value);
}

/**
 * The caller's job of that workflow as its actor has it now (from the archive for a finished job
 * retention moved there: `archived`); job_not_found when there is none.
 */
export async function ownedJobFromLog(
  commands: CommandHandler,
  userId: string,
  workflowId: string,
  jobId: string,
  archive?: ArchiveReader,
): Promise<{ status: string; archived: boolean }> {
  const job = await jobFromLog(commands, userId, jobId, archive);
  if (!job.exists || job.state.context.workflow_id !== workflowId) {
    throw new NotFoundError('job_not_found', 'No such job');
  }
  return { status: String(job.state.value), archived: job.archived };
}
