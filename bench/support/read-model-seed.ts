// Fills the Postgres read models (users, workflows, jobs, workflow_stats, user_stats) directly with
// multi-row INSERTs, for benchmarks of the API's reads: writing 100,000 jobs through the event log
// and the projection would take far longer than the measurement itself. The rows look like what the
// projection writes (read-model-reducer.ts): HEARTBEAT and CONTAINER workflows, interval and cron
// schedules, ACTIVE / PAUSED / TERMINATED, jobs that completed, failed or were canceled with the
// matching timestamps, and a last job still running here and there; stats agree with the jobs.
// Rows are inserted in the order the projection would have written them (by created_at), so the
// tables' physical order is the one a real log gives. Shapes are deterministic per seed; ids are
// random UUIDs.
import { randomUUID } from 'node:crypto';
import type { Kysely } from 'kysely';
import type { WorkflowSchedule } from '../../src/events/workflow-events.ts';
import type {
  Database,
  JobRow,
  UserRow,
  UserStatsRow,
  WorkflowRow,
  WorkflowStatsRow,
} from '../../src/infra/database.ts';
import { round, runPool } from './stats.ts';

export interface SeedShape {
  /** Workflows of the benchmark user, the hot one included. */
  workflows: number;
  /** Jobs of the benchmark user, the hot workflow's included. */
  jobs: number;
  /** Jobs of the one hot workflow (one a minute up to now). */
  hotJobs: number;
  /** Workflows of another user, interleaved in time with the benchmark user's. */
  otherWorkflows: number;
  otherJobsPerWorkflow: number;
}

export interface SeededReadModel {
  userId: string;
  otherUserId: string;
  /** The benchmark user's workflows, oldest first; the hot one among them. */
  workflowIds: string[];
  hotWorkflowId: string;
  otherWorkflowIds: string[];
  rows: { users: number; workflows: number; jobs: number; workflow_stats: number; user_stats: number };
  /** The benchmark user's ordinary workflows (not the hot one): fewest and most jobs of one. */
  jobs_per_workflow: { min: number; max: number };
  timestamps: { oldest: string; newest: string };
  duration_ms: number;
}

/** mulberry32: a small deterministic PRNG, uniform in [0, 1). */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Fisher–Yates with `random`; returns a new array. */
export function shuffled<T>(items: readonly T[], random: () => number): T[] {
  const out = [...items];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}

const MINUTE = 60_000;
const DAY = 24 * 60 * MINUTE;
/** Jobs have 21 columns: 2,000 rows stay well under PostgreSQL's 65,535 parameters per statement. */
const CHUNK = 2000;
const INSERTS_IN_FLIGHT = 4;

const INTERVALS = [1, 5, 10, 15, 30, 60, 120, 360, 1440];
const CRONS: { cron: string; timezone: string; everyMinutes: number }[] = [
  { cron: '*/15 * * * *', timezone: 'UTC', everyMinutes: 15 },
  { cron: '0 * * * *', timezone: 'Europe/Berlin', everyMinutes: 60 },
  { cron: '30 2 * * *', timezone: 'America/New_York', everyMinutes: 1440 },
  { cron: '0 9 * * 1-5', timezone: 'Asia/Tokyo', everyMinutes: 1440 },
];

interface Generator {
  random: () => number;
  version: number;
  anchor: number;
}

const pick = <T>(g: Generator, items: readonly T[]): T => items[Math.floor(g.random() * items.length)]!;
const between = (g: Generator, lo: number, hi: number) => lo + Math.floor(g.random() * (hi - lo + 1));
const hex = (g: Generator, n: number) =>
  Array.from({ length: n }, () => Math.floor(g.random() * 16).toString(16)).join('');

function workflowRow(
  g: Generator,
  userId: string,
  index: number,
  createdAt: number,
  hot: boolean,
): { row: WorkflowRow; stepMinutes: number } {
  const kind = !hot && g.random() < 0.3 ? 'CONTAINER' : 'HEARTBEAT';
  let schedule: WorkflowSchedule;
  let stepMinutes: number;
  if (hot) {
    schedule = { type: 'interval', minutes: 1 };
    stepMinutes = 1;
  } else if (g.random() < 0.8) {
    stepMinutes = pick(g, INTERVALS);
    schedule = { type: 'interval', minutes: stepMinutes };
  } else {
    const c = pick(g, CRONS);
    stepMinutes = c.everyMinutes;
    schedule = { type: 'cron', cron: c.cron, timezone: c.timezone };
  }
  const payload =
    kind === 'HEARTBEAT'
      ? {
          endpoint: `https://service-${index % 97}.example.com/healthz`,
          expected_status_code: 200,
          headers: index % 5 === 0 ? { authorization: 'Bearer example' } : {},
          timeout: '10s',
        }
      : {
          image: 'chronoverse/busybox:local',
          cmd: ['sh', '-c', `echo run ${index}; sleep 1`],
          env: { STAGE: index % 2 ? 'prod' : 'staging' },
          timeout: '30s',
          network: 'none',
        };
  const r = g.random();
  const status = hot ? 'ACTIVE' : r < 0.06 ? 'TERMINATED' : r < 0.16 ? 'PAUSED' : 'ACTIVE';
  const created = new Date(createdAt);
  return {
    stepMinutes,
    row: {
      id: randomUUID(),
      user_id: userId,
      name: hot ? 'checkout health (every minute)' : `${kind === 'HEARTBEAT' ? 'ping' : 'task'} ${index}`,
      kind,
      payload,
      schedule,
      interval_minutes: schedule.type === 'interval' ? schedule.minutes : null,
      status,
      build_status: 'COMPLETED',
      build_error: null,
      image_digest: kind === 'CONTAINER' ? `sha256:${hex(g, 64)}` : null,
      max_consecutive_job_failures_allowed: pick(g, [3, 3, 3, 5, 10]),
      log_retention: true,
      consecutive_job_failures: 0,
      last_fired_at: null,
      last_tick_at: null,
      tick_withdrawals: 0,
      chain: null,
      terminated_at: null,
      terminated_reason: null,
      created_at: created,
      updated_at: created,
      version: g.version++,
    },
  };
}

function jobRow(g: Generator, wf: WorkflowRow, at: number, last: boolean): JobRow {
  const created = new Date(at + between(g, 0, 40));
  const base: JobRow = {
    id: randomUUID(),
    workflow_id: wf.id,
    user_id: wf.user_id,
    kind: wf.kind,
    status: 'COMPLETED',
    trigger: g.random() < 0.05 ? 'MANUAL' : 'AUTOMATIC',
    attempt: 1,
    scheduled_at: new Date(at),
    fire_at: null,
    backfill_id: null,
    caused_by_workflow_id: null,
    caused_by_job_id: null,
    chain_depth: null,
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
    created_at: created,
    updated_at: created,
    version: g.version++,
  };
  const queued = created.getTime() + between(g, 2, 60);
  const started = queued + between(g, 5, 400);
  const ended = started + (wf.kind === 'HEARTBEAT' ? between(g, 15, 900) : between(g, 1200, 30_000));
  const r = g.random();
  if (last && wf.status === 'ACTIVE' && r < 0.3) {
    // The newest job of an active workflow may still be on its way.
    if (r < 0.05) return base; // PENDING
    base.queued_at = new Date(queued);
    base.updated_at = base.queued_at;
    if (r < 0.1) return { ...base, status: 'QUEUED' };
    return {
      ...base,
      status: 'RUNNING',
      started_at: new Date(started),
      executor_id: `executor-${between(g, 1, 4)}`,
      updated_at: new Date(started),
    };
  }
  const done = {
    ...base,
    queued_at: new Date(queued),
    started_at: new Date(started),
    completed_at: new Date(ended),
    executor_id: `executor-${between(g, 1, 4)}`,
    updated_at: new Date(ended),
  };
  if (r < 0.86) {
    return {
      ...done,
      exit_code: wf.kind === 'CONTAINER' ? 0 : null,
      image_digest: wf.image_digest,
    };
  }
  if (r < 0.96) {
    const system = g.random() < 0.15;
    return {
      ...done,
      status: 'FAILED',
      attempt: system ? 3 : 1,
      failure_kind: system ? 'SYSTEM' : 'USER',
      failure_reason: system
        ? 'executor_lost'
        : wf.kind === 'HEARTBEAT'
          ? pick(g, ['status_mismatch', 'timeout'])
          : pick(g, ['exit_code', 'exit_code', 'oom', 'timeout']),
      error_message: system
        ? 'the executor stopped answering'
        : wf.kind === 'HEARTBEAT'
          ? 'expected status 200, got 503'
          : 'the container exited with 1',
      exit_code: wf.kind === 'CONTAINER' && !system ? 1 : null,
    };
  }
  const canceled = new Date(queued + between(g, 1000, 60_000));
  return {
    ...done,
    status: 'CANCELED',
    error_message: 'canceled by the user',
    started_at: null,
    executor_id: null,
    completed_at: canceled,
    updated_at: canceled,
  };
}

/** The jobs of one workflow at `times` (ascending), and the workflow and stats row brought up to date. */
function jobsOf(
  g: Generator,
  wf: WorkflowRow,
  times: readonly number[],
): { jobs: JobRow[]; stats: WorkflowStatsRow } {
  const jobs = times.map((t, k) => jobRow(g, wf, t, k === times.length - 1));
  const stats: WorkflowStatsRow = {
    workflow_id: wf.id,
    user_id: wf.user_id,
    jobs_total: jobs.length,
    jobs_completed: 0,
    jobs_failed: 0,
    jobs_canceled: 0,
    total_duration_ms: 0,
    log_lines: 0,
    last_job_at: jobs.at(-1)?.scheduled_at ?? null,
  };
  let trailingFailures = 0;
  for (const j of jobs) {
    if (j.status === 'COMPLETED') stats.jobs_completed++;
    if (j.status === 'FAILED') stats.jobs_failed++;
    if (j.status === 'CANCELED') stats.jobs_canceled++;
    if (j.completed_at && j.started_at)
      stats.total_duration_ms += j.completed_at.getTime() - j.started_at.getTime();
    if (j.completed_at) stats.log_lines += wf.kind === 'CONTAINER' ? between(g, 2, 40) : 1;
    if (j.status === 'FAILED') trailingFailures++;
    else if (j.status === 'COMPLETED') trailingFailures = 0;
  }
  const lastAutomatic = jobs.findLast((j) => j.trigger === 'AUTOMATIC');
  wf.last_fired_at = lastAutomatic?.scheduled_at ?? null;
  wf.last_tick_at = wf.last_fired_at;
  wf.consecutive_job_failures = trailingFailures;
  const lastChange = jobs.at(-1)?.updated_at.getTime() ?? wf.created_at.getTime();
  if (wf.status === 'TERMINATED') {
    wf.terminated_at = new Date(lastChange + between(g, MINUTE, DAY));
    wf.terminated_reason =
      trailingFailures >= wf.max_consecutive_job_failures_allowed
        ? 'too many consecutive job failures'
        : 'terminated by the user';
    wf.updated_at = wf.terminated_at;
  } else {
    wf.updated_at = new Date(Math.max(wf.updated_at.getTime(), lastChange));
  }
  wf.version = g.version++;
  return { jobs, stats };
}

/** `count` times from `from`, every `stepMinutes` (squeezed to fit before `until`), a little jitter. */
function fireTimes(g: Generator, from: number, until: number, stepMinutes: number, count: number): number[] {
  const step = Math.min(stepMinutes * MINUTE, Math.floor((until - from) / (count + 1)));
  return Array.from(
    { length: count },
    (_, k) => from + (k + 1) * step + between(g, 0, Math.min(2000, step / 4)),
  );
}

function stats(
  userId: string,
  workflows: readonly WorkflowRow[],
  wStats: readonly WorkflowStatsRow[],
): UserStatsRow {
  const sum = (f: (s: WorkflowStatsRow) => number) => wStats.reduce((a, s) => a + f(s), 0);
  return {
    user_id: userId,
    workflows: workflows.length,
    jobs_total: sum((s) => s.jobs_total),
    jobs_completed: sum((s) => s.jobs_completed),
    jobs_failed: sum((s) => s.jobs_failed),
    jobs_canceled: sum((s) => s.jobs_canceled),
    total_duration_ms: sum((s) => s.total_duration_ms),
    log_lines: sum((s) => s.log_lines),
  };
}

/**
 * Seeds the read models for `userId` (already registered: its users and user_stats rows exist and are
 * updated here) and for another user created here. Timestamps span the 60 days before `now`.
 */
export async function seedReadModel(
  db: Kysely<Database>,
  userId: string,
  shape: SeedShape,
  seed = 42,
  now = Date.now(),
): Promise<SeededReadModel> {
  const started = performance.now();
  const g: Generator = { random: prng(seed), version: 1000, anchor: Math.floor(now / MINUTE) * MINUTE };
  const otherUserId = randomUUID();
  const oldest = g.anchor - 61 * DAY;
  const span = 60 * DAY;
  const hotIndex = Math.floor(shape.workflows / 5);
  const ordinaryJobs = shape.jobs - shape.hotJobs;
  const ordinaryWorkflows = shape.workflows - 1;

  const workflows: WorkflowRow[] = [];
  const jobs: JobRow[] = [];
  const wStats: WorkflowStatsRow[] = [];
  let hotWorkflowId = '';
  let ordinarySeen = 0;
  const perWorkflow = { min: Number.POSITIVE_INFINITY, max: 0 };
  // One slot of `span / n` per workflow, created somewhere inside its slot.
  const createdAt = (i: number, n: number) => oldest + Math.floor(((i + 0.1 + 0.8 * g.random()) * span) / n);

  for (let i = 0; i < shape.workflows; i++) {
    const hot = i === hotIndex;
    const { row, stepMinutes } = workflowRow(g, userId, i, createdAt(i, shape.workflows), hot);
    let times: number[];
    if (hot) {
      hotWorkflowId = row.id;
      // One a minute, the newest a minute ago.
      times = Array.from({ length: shape.hotJobs }, (_, k) => g.anchor - (shape.hotJobs - k) * MINUTE);
    } else {
      // The ordinary jobs spread evenly: every workflow gets the floor or the ceiling of the mean.
      const n =
        Math.floor(((ordinarySeen + 1) * ordinaryJobs) / ordinaryWorkflows) -
        Math.floor((ordinarySeen * ordinaryJobs) / ordinaryWorkflows);
      ordinarySeen++;
      perWorkflow.min = Math.min(perWorkflow.min, n);
      perWorkflow.max = Math.max(perWorkflow.max, n);
      times = fireTimes(g, row.created_at.getTime(), g.anchor - MINUTE, stepMinutes, n);
    }
    const made = jobsOf(g, row, times);
    workflows.push(row);
    jobs.push(...made.jobs);
    wStats.push(made.stats);
  }
  const workflowIds = workflows.map((w) => w.id);
  const userStats = stats(userId, workflows, wStats);

  const otherWorkflows: WorkflowRow[] = [];
  const otherStats: WorkflowStatsRow[] = [];
  for (let i = 0; i < shape.otherWorkflows; i++) {
    const { row, stepMinutes } = workflowRow(g, otherUserId, i, createdAt(i, shape.otherWorkflows), false);
    const times = fireTimes(
      g,
      row.created_at.getTime(),
      g.anchor - MINUTE,
      stepMinutes,
      shape.otherJobsPerWorkflow,
    );
    const made = jobsOf(g, row, times);
    otherWorkflows.push(row);
    jobs.push(...made.jobs);
    otherStats.push(made.stats);
  }
  const otherUserCreated = new Date(oldest - DAY);
  const otherUser: UserRow = {
    id: otherUserId,
    email: 'someone.else@example.com',
    notification_preference: 'ALERTS',
    created_at: otherUserCreated,
    updated_at: otherUserCreated,
    version: 1,
  };

  // In the order the projection would have written them.
  const allWorkflows = [...workflows, ...otherWorkflows].sort(
    (a, b) => a.created_at.getTime() - b.created_at.getTime(),
  );
  jobs.sort((a, b) => a.created_at.getTime() - b.created_at.getTime());
  const allStats = [...wStats, ...otherStats];

  await db.insertInto('users').values(otherUser).execute();
  await insertChunks(allWorkflows, (rows) => db.insertInto('workflows').values(rows).execute());
  await insertChunks(jobs, (rows) => db.insertInto('jobs').values(rows).execute());
  await insertChunks(allStats, (rows) => db.insertInto('workflow_stats').values(rows).execute());
  await db
    .insertInto('user_stats')
    .values([userStats, stats(otherUserId, otherWorkflows, otherStats)])
    .onConflict((oc) =>
      oc.column('user_id').doUpdateSet({
        workflows: (eb) => eb.ref('excluded.workflows'),
        jobs_total: (eb) => eb.ref('excluded.jobs_total'),
        jobs_completed: (eb) => eb.ref('excluded.jobs_completed'),
        jobs_failed: (eb) => eb.ref('excluded.jobs_failed'),
        jobs_canceled: (eb) => eb.ref('excluded.jobs_canceled'),
        total_duration_ms: (eb) => eb.ref('excluded.total_duration_ms'),
        log_lines: (eb) => eb.ref('excluded.log_lines'),
      }),
    )
    .execute();

  let first = Number.POSITIVE_INFINITY;
  let last = 0;
  for (const { created_at } of [...jobs, ...allWorkflows]) {
    first = Math.min(first, created_at.getTime());
    last = Math.max(last, created_at.getTime());
  }
  return {
    userId,
    otherUserId,
    workflowIds,
    hotWorkflowId,
    otherWorkflowIds: otherWorkflows.map((w) => w.id),
    rows: {
      users: 1,
      workflows: allWorkflows.length,
      jobs: jobs.length,
      workflow_stats: allStats.length,
      user_stats: 2,
    },
    jobs_per_workflow: perWorkflow,
    timestamps: {
      oldest: new Date(first).toISOString(),
      newest: new Date(last).toISOString(),
    },
    duration_ms: round(performance.now() - started, 1),
  };
}

async function insertChunks<T>(rows: readonly T[], insert: (chunk: T[]) => Promise<unknown>): Promise<void> {
  const chunks: T[][] = [];
  for (let i = 0; i < rows.length; i += CHUNK) chunks.push(rows.slice(i, i + CHUNK));
  await runPool(chunks, INSERTS_IN_FLIGHT, async (chunk) => {
    await insert(chunk);
  });
}
