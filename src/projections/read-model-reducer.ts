// The read models' logic without I/O: given the rows a batch of commits touches (loaded beforehand)
// apply each event to them in memory. The projection then writes back what changed in a few bulk
// statements. Every value comes from the events, never from the clock, so a replay is identical.
import { assertNever } from '../assert.ts';
import type { EventEnvelope } from '../events/envelope.ts';
import type { StoredCommit } from '../events/event-store.ts';
import type { JobEvent } from '../events/job-events.ts';
import type { WorkflowEvent } from '../events/workflow-events.ts';
import type {
  BackfillTable,
  JobRow,
  NotificationRow,
  UserRow,
  UserStatsRow,
  WorkflowRow,
  WorkflowStatsRow,
  WorkflowTickTable,
} from '../infra/database.ts';

type WorkflowTickRow = WorkflowTickTable;
type BackfillRow = BackfillTable;

import { notificationFor } from '../events/notification-rules.ts';

export interface ReadModelWorkingSet {
  readonly users: Map<string, UserRow>;
  readonly workflows: Map<string, WorkflowRow>;
  readonly jobs: Map<string, JobRow>;
  readonly workflowStats: Map<string, WorkflowStatsRow>;
  readonly userStats: Map<string, UserStatsRow>;
  /** Ids changed by this batch, per table: only these are written back. */
  readonly changed: {
    users: Set<string>;
    workflows: Set<string>;
    jobs: Set<string>;
    workflowStats: Set<string>;
    userStats: Set<string>;
  };
  readonly deletedWorkflows: Set<string>;
  readonly notifications: NotificationRow[];
  /** Read marks for notifications already stored; those created in this batch are marked in place. */
  readonly readMarks: { user_id: string; ids: readonly string[]; at: Date }[];
  /**
   * The tick ledger rows this batch decided, by workflow and nominal time (see tickKey): the last
   * decision of a tick wins, and null removes it (a tick withdrawn by a pause is undecided again).
   */
  readonly ticks: Map<string, WorkflowTickRow | null>;
  /** Backfills asked for in this batch (rows never change once written). */
  readonly backfills: BackfillRow[];
  /** The ledger rows of backfilled ticks: written only where the ledger has none for that tick. */
  readonly backfillTicks: WorkflowTickRow[];
}

export function tickKey(workflowId: string, nominal: Date): string {
  return `${workflowId} ${nominal.toISOString()}`;
}

export function emptyWorkingSet(): ReadModelWorkingSet {
  return {
    users: new Map(),
    workflows: new Map(),
    jobs: new Map(),
    workflowStats: new Map(),
    userStats: new Map(),
    changed: {
      users: new Set(),
      workflows: new Set(),
      jobs: new Set(),
      workflowStats: new Set(),
      userStats: new Set(),
    },
    deletedWorkflows: new Set(),
    notifications: [],
    readMarks: [],
    ticks: new Map(),
    backfills: [],
    backfillTicks: [],
  };
}

/** The ids a batch needs loaded: users, workflows and jobs its events name. */
export function idsToLoad(commits: readonly StoredCommit[]): {
  users: string[];
  workflows: string[];
  jobs: string[];
} {
  const users = new Set<string>();
  const workflows = new Set<string>();
  const jobs = new Set<string>();
  for (const c of commits) {
    for (const e of c.events) {
      users.add(e.userId);
      if (e.aggregate === 'workflow') workflows.add(e.aggregateId);
      if (e.aggregate === 'job') {
        jobs.add(e.aggregateId);
        if (e.type === 'JobCreated') workflows.add(e.data.workflow_id);
      }
    }
  }
  return { users: [...users], workflows: [...workflows], jobs: [...jobs] };
}

function userStats(ws: ReadModelWorkingSet, userId: string): UserStatsRow {
  let row = ws.userStats.get(userId);
  if (!row) {
    row = {
      user_id: userId,
      workflows: 0,
      jobs_total: 0,
      jobs_completed: 0,
      jobs_failed: 0,
      jobs_canceled: 0,
      total_duration_ms: 0,
      log_lines: 0,
    };
    ws.userStats.set(userId, row);
  }
  ws.changed.userStats.add(userId);
  return row;
}

function workflowStats(ws: ReadModelWorkingSet, workflowId: string, userId: string): WorkflowStatsRow {
  let row = ws.workflowStats.get(workflowId);
  if (!row) {
    row = {
      workflow_id: workflowId,
      user_id: userId,
      jobs_total: 0,
      jobs_completed: 0,
      jobs_failed: 0,
      jobs_canceled: 0,
      total_duration_ms: 0,
      log_lines: 0,
      last_job_at: null,
    };
    ws.workflowStats.set(workflowId, row);
  }
  ws.changed.workflowStats.add(workflowId);
  return row;
}

function touchWorkflow(ws: ReadModelWorkingSet, e: EventEnvelope, sequence: number): WorkflowRow | undefined {
  const row = ws.workflows.get(e.aggregateId);
  if (!row) return undefined;
  row.updated_at = new Date(e.occurredAt);
  row.version = sequence;
  ws.changed.workflows.add(row.id);
  return row;
}

function touchJob(ws: ReadModelWorkingSet, e: EventEnvelope, sequence: number): JobRow | undefined {
  const row = ws.jobs.get(e.aggregateId);
  if (!row) return undefined;
  row.updated_at = new Date(e.occurredAt);
  row.version = sequence;
  ws.changed.jobs.add(row.id);
  return row;
}

function endJob(
  ws: ReadModelWorkingSet,
  job: JobRow,
  at: Date,
  outcome: 'jobs_completed' | 'jobs_failed' | 'jobs_canceled',
): void {
  job.completed_at = at;
  const duration = job.started_at ? Math.max(0, at.getTime() - job.started_at.getTime()) : 0;
  const w = workflowStats(ws, job.workflow_id, job.user_id);
  const u = userStats(ws, job.user_id);
  w[outcome] += 1;
  u[outcome] += 1;
  w.total_duration_ms += duration;
  u.total_duration_ms += duration;
}

export function applyEvent(ws: ReadModelWorkingSet, e: EventEnvelope, sequence: number): void {
  const at = new Date(e.occurredAt);
  switch (e.type) {
    case 'UserRegistered':
      ws.users.set(e.aggregateId, {
        id: e.aggregateId,
        email: e.data.email,
        notification_preference: 'ALERTS',
        created_at: at,
        updated_at: at,
        version: sequence,
      });
      ws.changed.users.add(e.aggregateId);
      userStats(ws, e.aggregateId);
      return;
    case 'UserPreferencesChanged': {
      const user = ws.users.get(e.aggregateId);
      if (!user) return;
      user.notification_preference = e.data.notification_preference;
      user.updated_at = at;
      user.version = sequence;
      ws.changed.users.add(user.id);
      return;
    }
    case 'NotificationsRead': {
      const ids = new Set(e.data.ids);
      for (const n of ws.notifications)
        if (n.user_id === e.userId && ids.has(n.id) && !n.read_at) n.read_at = at;
      ws.readMarks.push({ user_id: e.userId, ids: e.data.ids, at });
      return;
    }
    case 'WorkflowCreated': {
      const d = e.data;
      ws.workflows.set(e.aggregateId, {
        id: e.aggregateId,
        user_id: e.userId,
        name: d.name,
        kind: d.kind,
        payload: { ...d.payload },
        schedule: d.schedule,
        interval_minutes: d.schedule.type === 'interval' ? d.schedule.minutes : null,
        status: 'ACTIVE',
        build_status: 'NONE',
        build_error: null,
        image_digest: null,
        max_consecutive_job_failures_allowed: d.max_consecutive_job_failures_allowed,
        // Absent in events from before the field existed, when every workflow kept its lines.
        log_retention: d.log_retention ?? true,
        consecutive_job_failures: 0,
        last_fired_at: null,
        last_tick_at: null,
        tick_withdrawals: 0,
        chain: d.chain ?? null,
        terminated_at: null,
        terminated_reason: null,
        created_at: at,
        updated_at: at,
        version: sequence,
      });
      ws.deletedWorkflows.delete(e.aggregateId);
      ws.changed.workflows.add(e.aggregateId);
      workflowStats(ws, e.aggregateId, e.userId);
      userStats(ws, e.userId).workflows += 1;
      return;
    }
    case 'WorkflowDeleted': {
      if (!ws.workflows.has(e.aggregateId)) return;
      ws.workflows.delete(e.aggregateId);
      ws.workflowStats.delete(e.aggregateId);
      ws.changed.workflows.delete(e.aggregateId);
      ws.changed.workflowStats.delete(e.aggregateId);
      ws.deletedWorkflows.add(e.aggregateId);
      userStats(ws, e.userId).workflows -= 1;
      return;
    }
    case 'JobCreated': {
      const d = e.data;
      // A job created while its workflow was being deleted (the reactor raced the delete) has no row
      // to belong to: writing one would bring the deleted workflow's stats back.
      if (!ws.workflows.has(d.workflow_id)) return;
      ws.jobs.set(e.aggregateId, {
        id: e.aggregateId,
        workflow_id: d.workflow_id,
        user_id: e.userId,
        kind: d.kind,
        status: 'PENDING',
        trigger: d.trigger,
        attempt: 0,
        scheduled_at: new Date(d.scheduled_at),
        fire_at: d.fire_at ? new Date(d.fire_at) : null,
        backfill_id: d.backfill_id ?? null,
        caused_by_workflow_id: d.caused_by?.workflow_id ?? null,
        caused_by_job_id: d.caused_by?.job_id ?? null,
        chain_depth: d.caused_by?.depth ?? null,
        queued_at: null,
        started_at: null,
        completed_at: null,
        not_before: null,
        executor_id: null,
        exit_code: null,
        failure_kind: null,
        failure_reason: null,
        error_message: null,
        image_digest: null,
        created_at: at,
        updated_at: at,
        version: sequence,
      });
      ws.changed.jobs.add(e.aggregateId);
      const w = workflowStats(ws, d.workflow_id, e.userId);
      w.jobs_total += 1;
      w.last_job_at = new Date(d.scheduled_at);
      userStats(ws, e.userId).jobs_total += 1;
      return;
    }
    case 'WorkflowUpdated':
    case 'WorkflowBuildQueued':
    case 'WorkflowBuildStarted':
    case 'WorkflowBuildCompleted':
    case 'WorkflowBuildFailed':
    case 'WorkflowBuildCanceled':
    case 'WorkflowPaused':
    case 'WorkflowResumed':
    case 'WorkflowTerminated':
    case 'JobScheduled':
    case 'TickSkipped':
    case 'TicksWithdrawn':
    case 'JobReleased':
    case 'JobOutcomeRecorded':
    case 'BackfillRequested':
    case 'ChainSkipped':
      applyWorkflowEvent(ws, e, sequence);
      return;
    case 'JobQueued':
    case 'JobStarted':
    case 'JobCompleted':
    case 'JobFailed':
    case 'JobRetryScheduled':
    case 'JobCanceled':
      applyJobEvent(ws, e, sequence);
      return;
    default:
      assertNever(e);
  }
}

/** An event of a workflow that exists: its row changes, and it may notify. */
function applyWorkflowEvent(
  ws: ReadModelWorkingSet,
  e: EventEnvelope<Exclude<WorkflowEvent, { type: 'WorkflowCreated' | 'WorkflowDeleted' }>>,
  sequence: number,
): void {
  const at = new Date(e.occurredAt);
  const wf = touchWorkflow(ws, e, sequence);
  if (!wf) return;
  switch (e.type) {
    case 'WorkflowUpdated': {
      const c = e.data.changes;
      if (c.name !== undefined) wf.name = c.name;
      if (c.payload !== undefined) wf.payload = { ...c.payload };
      if (c.schedule !== undefined) {
        wf.schedule = c.schedule;
        wf.interval_minutes = c.schedule.type === 'interval' ? c.schedule.minutes : null;
      }
      if (c.max_consecutive_job_failures_allowed !== undefined)
        wf.max_consecutive_job_failures_allowed = c.max_consecutive_job_failures_allowed;
      if (c.log_retention !== undefined) wf.log_retention = c.log_retention;
      if (c.chain !== undefined) wf.chain = c.chain;
      break;
    }
    case 'WorkflowBuildQueued':
      wf.build_status = 'QUEUED';
      wf.build_error = null;
      break;
    case 'WorkflowBuildStarted':
      wf.build_status = 'STARTED';
      break;
    case 'WorkflowBuildCompleted':
      wf.build_status = 'COMPLETED';
      wf.image_digest = e.data.image_digest ?? wf.image_digest;
      break;
    case 'WorkflowBuildFailed':
      wf.build_status = 'FAILED';
      wf.build_error = e.data.reason;
      break;
    case 'WorkflowBuildCanceled':
      wf.build_status = 'CANCELED';
      break;
    case 'WorkflowPaused':
      wf.status = 'PAUSED';
      break;
    case 'WorkflowResumed':
      wf.status = 'ACTIVE';
      break;
    case 'WorkflowTerminated':
      wf.status = 'TERMINATED';
      wf.terminated_at = at;
      wf.terminated_reason = e.data.reason;
      break;
    case 'JobScheduled':
      if (e.data.trigger === 'BACKFILL') {
        ws.backfillTicks.push({
          workflow_id: wf.id,
          nominal_at: new Date(e.data.scheduled_at),
          user_id: wf.user_id,
          outcome: 'fired',
          reason: 'backfill',
          job_id: e.data.job_id,
          fire_at: null,
          recorded_at: at,
        });
      }
      if (e.data.trigger === 'AUTOMATIC') {
        const nominal = new Date(e.data.scheduled_at);
        wf.last_fired_at = nominal;
        wf.last_tick_at = nominal;
        ws.ticks.set(tickKey(wf.id, nominal), {
          workflow_id: wf.id,
          nominal_at: nominal,
          user_id: wf.user_id,
          outcome: 'fired',
          reason: null,
          job_id: e.data.job_id,
          fire_at: e.data.fire_at ? new Date(e.data.fire_at) : null,
          recorded_at: at,
        });
      }
      break;
    case 'TickSkipped': {
      const nominal = new Date(e.data.nominal_at);
      wf.last_tick_at = nominal;
      ws.ticks.set(tickKey(wf.id, nominal), {
        workflow_id: wf.id,
        nominal_at: nominal,
        user_id: wf.user_id,
        outcome: 'skipped',
        reason: e.data.reason,
        job_id: null,
        fire_at: null,
        recorded_at: at,
      });
      break;
    }
    case 'TicksWithdrawn': {
      // Paused: the ticks are undecided again, to be decided when due. Terminated: they never run.
      for (const t of e.data.ticks) {
        const nominal = new Date(t.nominal_at);
        ws.ticks.set(
          tickKey(wf.id, nominal),
          e.data.reason === 'paused'
            ? null
            : {
                workflow_id: wf.id,
                nominal_at: nominal,
                user_id: wf.user_id,
                outcome: 'skipped',
                reason: 'terminated',
                job_id: null,
                fire_at: null,
                recorded_at: at,
              },
        );
      }
      if (e.data.reason === 'paused') {
        wf.tick_withdrawals += 1;
        wf.last_tick_at = e.data.last_tick_at === null ? null : new Date(e.data.last_tick_at);
        wf.last_fired_at = e.data.last_fired_at === null ? null : new Date(e.data.last_fired_at);
      }
      break;
    }
    case 'JobOutcomeRecorded':
      wf.consecutive_job_failures = e.data.consecutive_failures;
      break;
    case 'JobReleased':
      // The job's own JobQueued moves its row.
      break;
    case 'ChainSkipped':
      // In the workflow's history (and a notification); no row changes.
      break;
    case 'BackfillRequested':
      ws.backfills.push({
        id: e.data.backfill_id,
        workflow_id: wf.id,
        user_id: wf.user_id,
        range_from: new Date(e.data.from),
        range_to: new Date(e.data.to),
        overlap: e.data.overlap,
        jobs: e.data.jobs,
        covered: e.data.covered,
        created_at: at,
      });
      break;
    default:
      assertNever(e);
  }
  notify(ws, e, wf);
}

/** An event of a job that exists: its row and its workflow's statistics change, and it may notify. */
function applyJobEvent(
  ws: ReadModelWorkingSet,
  e: EventEnvelope<Exclude<JobEvent, { type: 'JobCreated' }>>,
  sequence: number,
): void {
  const at = new Date(e.occurredAt);
  const job = touchJob(ws, e, sequence);
  if (!job) return;
  switch (e.type) {
    case 'JobQueued':
      job.status = 'QUEUED';
      job.attempt = e.data.attempt;
      job.queued_at = at;
      break;
    case 'JobStarted':
      job.status = 'RUNNING';
      job.attempt = e.data.attempt;
      job.started_at = at;
      job.executor_id = e.data.executor_id;
      break;
    case 'JobCompleted':
      job.status = 'COMPLETED';
      job.exit_code = e.data.exit_code ?? null;
      job.image_digest = e.data.image_digest ?? job.image_digest;
      endJob(ws, job, at, 'jobs_completed');
      break;
    case 'JobFailed':
      job.failure_kind = e.data.failure_kind;
      job.failure_reason = e.data.reason;
      job.error_message = e.data.error_message;
      job.exit_code = e.data.exit_code ?? null;
      if (!e.data.will_retry) {
        job.status = 'FAILED';
        endJob(ws, job, at, 'jobs_failed');
      }
      break;
    case 'JobRetryScheduled':
      job.status = 'QUEUED';
      job.attempt = e.data.next_attempt;
      job.not_before = new Date(e.data.not_before);
      job.queued_at = at;
      job.started_at = null;
      job.executor_id = null;
      break;
    case 'JobCanceled':
      job.status = 'CANCELED';
      job.error_message = e.data.reason;
      endJob(ws, job, at, 'jobs_canceled');
      break;
    default:
      assertNever(e);
  }
  const wf = ws.workflows.get(job.workflow_id);
  if (wf) notify(ws, e, wf);
}

function notify(ws: ReadModelWorkingSet, e: EventEnvelope, wf: WorkflowRow): void {
  const preference = ws.users.get(e.userId)?.notification_preference ?? 'ALERTS';
  const n = notificationFor(e, preference, { id: wf.id, name: wf.name, kind: wf.kind });
  if (n) ws.notifications.push(n);
}

export function applyCommits(ws: ReadModelWorkingSet, commits: readonly StoredCommit[]): void {
  for (const c of commits) for (const e of c.events) applyEvent(ws, e, c.sequence);
}
