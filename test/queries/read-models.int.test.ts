// The PostgreSQL read-model queries of src/queries against a real, migrated database: rows are
// inserted as the projections would write them, and each module's functions are checked for scope
// (another user's rows never show), filters, order and keyset pages that neither skip nor repeat.
import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { NotFoundError, ValidationError } from '../../src/errors.ts';
import { userStats, workflowStats } from '../../src/queries/analytics.ts';
import { claimRequestHash } from '../../src/queries/idempotency-keys.ts';
import { findJob, jobScheduledAt, listJobs } from '../../src/queries/jobs.ts';
import { listNotifications } from '../../src/queries/notifications.ts';
import { decodeCursor, type Page } from '../../src/queries/paging.ts';
import { readModelPosition, waitForJobRow, waitForReadModel } from '../../src/queries/read-your-writes.ts';
import { listTicks } from '../../src/queries/ticks.ts';
import { notificationPreference } from '../../src/queries/users.ts';
import { findWorkflow, likePattern, listWorkflows } from '../../src/queries/workflows.ts';
import { useTestEnvironment } from '../support/test-environment.ts';

const env = useTestEnvironment();
const db = () => env.runtime.db;

const alice = randomUUID();
const bob = randomUUID();
const at = (minute: number) => new Date(Date.UTC(2026, 10, 27, 10, minute));

/** Rows as the projection writes them; the insert is untyped so columns with defaults may be left out. */
async function insert(table: string, rows: Record<string, unknown>[]) {
  await db()
    .insertInto(table as 'workflows')
    .values(rows as never)
    .execute();
}

function workflow(userId: string, minute: number, extra: Record<string, unknown> = {}) {
  return {
    id: randomUUID(),
    user_id: userId,
    name: `workflow ${minute}`,
    kind: 'HEARTBEAT',
    payload: JSON.stringify({ endpoint: 'http://127.0.0.1:9/' }),
    schedule: JSON.stringify({ type: 'interval', minutes: 5 }),
    interval_minutes: 5,
    status: 'ACTIVE',
    build_status: 'COMPLETED',
    build_error: null,
    image_digest: null,
    max_consecutive_job_failures_allowed: 3,
    log_retention: true,
    consecutive_job_failures: 0,
    last_fired_at: null,
    last_tick_at: null,
    terminated_at: null,
    terminated_reason: null,
    created_at: at(minute),
    updated_at: at(minute),
    version: 1,
    ...extra,
  };
}

function job(userId: string, workflowId: string, minute: number, extra: Record<string, unknown> = {}) {
  return {
    id: randomUUID(),
    workflow_id: workflowId,
    user_id: userId,
    kind: 'HEARTBEAT',
    status: 'QUEUED',
    trigger: 'AUTOMATIC',
    attempt: 1,
    scheduled_at: at(minute),
    queued_at: at(minute),
    started_at: null,
    completed_at: null,
    not_before: null,
    executor_id: null,
    exit_code: null,
    failure_kind: null,
    failure_reason: null,
    error_message: null,
    image_digest: null,
    created_at: at(minute),
    updated_at: at(minute),
    version: 2,
    ...extra,
  };
}

/** Every page of a list, following the cursors. */
async function allPages<T>(read: (cursor: string | undefined) => Promise<Page<T>>): Promise<T[][]> {
  const pages: T[][] = [];
  let cursor: string | undefined;
  do {
    const page = await read(cursor);
    pages.push(page.items);
    cursor = page.next_cursor ?? undefined;
  } while (cursor && pages.length < 100);
  return pages;
}

describe('workflows', () => {
  it('find the caller’s workflow only, and list it filtered, newest first, in pages', async () => {
    const rows = [
      workflow(alice, 1, { name: 'Nightly_100%' }),
      workflow(alice, 2, { name: 'api health', interval_minutes: 60 }),
      workflow(alice, 3, { name: 'paused', status: 'PAUSED' }),
      workflow(alice, 4, { name: 'container', kind: 'CONTAINER', build_status: 'QUEUED' }),
      // Same time as the one before: the id breaks the tie.
      workflow(alice, 4, { name: 'twin' }),
    ];
    const other = workflow(bob, 5, { name: 'api health' });
    await insert('workflows', [...rows, other]);

    expect((await findWorkflow(db(), alice, rows[0]!.id)).name).toBe('Nightly_100%');
    await expect(findWorkflow(db(), alice, other.id)).rejects.toThrow(NotFoundError);

    const names = async (f: Parameters<typeof listWorkflows>[2]) =>
      (await listWorkflows(db(), alice, f)).items.map((w) => w.name);
    const newestFirst = [...rows].sort(
      (a, b) => b.created_at.getTime() - a.created_at.getTime() || (a.id < b.id ? 1 : -1),
    );
    expect(await names({ limit: 10 })).toEqual(newestFirst.map((w) => w.name));
    expect(await names({ limit: 10, query: 'API' })).toEqual(['api health']);
    // % and _ are plain characters in the text searched for.
    expect(await names({ limit: 10, query: '_100%' })).toEqual(['Nightly_100%']);
    expect(await names({ limit: 10, query: '1_0' })).toEqual([]);
    expect(await names({ limit: 10, kind: 'CONTAINER' })).toEqual(['container']);
    expect(await names({ limit: 10, status: 'PAUSED' })).toEqual(['paused']);
    expect(await names({ limit: 10, build_status: 'QUEUED' })).toEqual(['container']);
    expect(await names({ limit: 10, interval_min: 6 })).toEqual(['api health']);
    expect(await names({ limit: 10, interval_max: 5 })).toHaveLength(4);

    const pages = await allPages((cursor) => listWorkflows(db(), alice, { limit: 2, cursor }));
    expect(pages.map((p) => p.length)).toEqual([2, 2, 1]);
    expect(pages.flat().map((w) => w.id)).toEqual(newestFirst.map((w) => w.id));
    await expect(listWorkflows(db(), alice, { limit: 2, cursor: 'nope' })).rejects.toThrow(ValidationError);
  });

  it('quote the LIKE pattern characters of user text', () => {
    expect(likePattern('a%b_c\\')).toBe('%a\\%b\\_c\\\\%');
  });
});

describe('jobs', () => {
  it('find the caller’s job of that workflow, list a workflow’s jobs filtered and paged', async () => {
    const wf = workflow(alice, 10);
    const otherWf = workflow(alice, 11);
    await insert('workflows', [wf, otherWf]);
    const jobs = [1, 2, 3, 4].map((m) =>
      job(alice, wf.id, 20 + m, m === 4 ? { trigger: 'MANUAL', status: 'COMPLETED' } : {}),
    );
    const bobs = job(bob, wf.id, 30);
    await insert('jobs', [...jobs, bobs, job(alice, otherWf.id, 31)]);

    expect((await findJob(db(), alice, wf.id, jobs[0]!.id)).id).toBe(jobs[0]!.id);
    await expect(findJob(db(), alice, otherWf.id, jobs[0]!.id)).rejects.toThrow(NotFoundError);
    await expect(findJob(db(), alice, wf.id, bobs.id)).rejects.toThrow(NotFoundError);

    const pages = await allPages((cursor) => listJobs(db(), alice, wf.id, { limit: 3, cursor }));
    expect(pages.map((p) => p.map((j) => j.id))).toEqual([
      [jobs[3]!.id, jobs[2]!.id, jobs[1]!.id],
      [jobs[0]!.id],
    ]);
    const manual = await listJobs(db(), alice, wf.id, { limit: 10, trigger: 'MANUAL', status: 'COMPLETED' });
    expect(manual.items.map((j) => j.id)).toEqual([jobs[3]!.id]);
    expect((await listJobs(db(), alice, wf.id, { limit: 10, status: 'RUNNING' })).items).toEqual([]);

    expect(await jobScheduledAt(db(), jobs[0]!.id)).toBe(at(21).toISOString());
    expect(await jobScheduledAt(db(), randomUUID())).toBeNull();
  });
});

describe('ticks', () => {
  it('list a workflow’s ledger newest first, by outcome, in pages keyed by nominal time', async () => {
    const wf = workflow(alice, 40);
    await insert('workflows', [wf]);
    const tick = (minute: number, outcome: 'fired' | 'skipped', userId = alice) => ({
      workflow_id: wf.id,
      nominal_at: at(minute),
      user_id: userId,
      outcome,
      reason: outcome === 'skipped' ? 'overlap' : null,
      job_id: outcome === 'fired' ? randomUUID() : null,
      recorded_at: at(minute),
    });
    await insert('workflow_ticks', [
      tick(41, 'fired'),
      tick(42, 'skipped'),
      tick(43, 'fired'),
      tick(44, 'fired'),
      tick(45, 'fired', bob),
    ]);
    const pages = await allPages((cursor) => listTicks(db(), alice, wf.id, { limit: 3, cursor }));
    expect(pages.map((p) => p.map((t) => t.nominal_at.getUTCMinutes()))).toEqual([[44, 43, 42], [41]]);
    const first = await listTicks(db(), alice, wf.id, { limit: 3 });
    expect(decodeCursor(first.next_cursor ?? '', ['date'])[0].toISOString()).toBe(at(42).toISOString());
    const skipped = await listTicks(db(), alice, wf.id, { limit: 10, outcome: 'skipped' });
    expect(skipped.items.map((t) => t.reason)).toEqual(['overlap']);
  });
});

describe('notifications', () => {
  const note = (minute: number, read: boolean, userId = alice) => ({
    id: randomUUID(),
    user_id: userId,
    kind: 'WEB_INFO',
    title: `note ${minute}`,
    message: 'm',
    entity_id: randomUUID(),
    entity_type: 'JOB',
    action_url: '/x',
    read_at: read ? at(59) : null,
    created_at: at(minute),
  });
  const owner = randomUUID();
  const notes = [
    note(50, false, owner),
    note(51, true, owner),
    note(52, false, owner),
    note(53, true, owner),
  ];

  it('list unread first, then newest, only the caller’s, the unread alone on request', async () => {
    await insert('notifications', [...notes, note(54, false)]);
    const first = await listNotifications(db(), owner, { limit: 10 });
    expect(first.items.map((n) => n.title)).toEqual(['note 52', 'note 50', 'note 53', 'note 51']);
    expect(first.next_cursor).toBeNull();
    const unread = await listNotifications(db(), owner, { limit: 10, unread: true });
    expect(unread.items.map((n) => n.title)).toEqual(['note 52', 'note 50']);
    expect(Object.keys(unread.items[0]!)).toEqual([
      'id',
      'kind',
      'title',
      'message',
      'entity_id',
      'entity_type',
      'action_url',
      'read_at',
      'created_at',
    ]);
    const page = await listNotifications(db(), owner, { limit: 3 });
    expect(page.items.map((n) => n.title)).toEqual(['note 52', 'note 50', 'note 53']);
    expect(decodeCursor(page.next_cursor ?? '', ['boolean', 'date', 'string'])).toEqual([
      true,
      at(53),
      notes[3]!.id,
    ]);
  });

  // A known fault, kept as it is by the move into src/queries (the API must not change in the same
  // step): the cursor condition compares (is read, created_at, id) with `>`, although the list is
  // newest first within each half, so the page after a cursor holds the rows NEWER than it in its
  // half. Here the second page should be [note 51] and is empty. This test fails once it is fixed:
  // then make it a plain `it`.
  it('pages through the list without skipping or repeating', async () => {
    const pages = await allPages((cursor) => listNotifications(db(), owner, { limit: 3, cursor }));
    expect(pages.map((p) => p.map((n) => n.title))).toEqual([['note 52', 'note 50', 'note 53'], ['note 51']]);
  });
});

describe('analytics', () => {
  it('read a user’s and a workflow’s totals, scoped by the user', async () => {
    const wf = workflow(alice, 55);
    await insert('workflows', [wf]);
    const totals = {
      jobs_total: 3,
      jobs_completed: 1,
      jobs_failed: 1,
      jobs_canceled: 1,
      total_duration_ms: 900,
      log_lines: 0,
    };
    await insert('user_stats', [{ user_id: alice, workflows: 1, ...totals }]);
    await insert('workflow_stats', [{ workflow_id: wf.id, user_id: alice, last_job_at: at(56), ...totals }]);
    expect(await userStats(db(), alice)).toMatchObject({ workflows: 1, jobs_total: 3 });
    expect(await userStats(db(), bob)).toBeUndefined();
    expect(await workflowStats(db(), alice, wf.id)).toMatchObject({ jobs_failed: 1, last_job_at: at(56) });
    expect(await workflowStats(db(), bob, wf.id)).toBeUndefined();
  });
});

describe('users', () => {
  it('read the notification preference from the read model', async () => {
    await insert('users', [
      {
        id: alice,
        email: 'alice@example.com',
        notification_preference: 'ALL',
        created_at: at(0),
        updated_at: at(0),
        version: 1,
      },
    ]);
    expect(await notificationPreference(db(), alice)).toBe('ALL');
    expect(await notificationPreference(db(), bob)).toBeUndefined();
  });
});

describe('idempotency keys', () => {
  it('keep the first request’s hash of a key, per user', async () => {
    expect(await claimRequestHash(db(), alice, 'k', 'first')).toBe('first');
    expect(await claimRequestHash(db(), alice, 'k', 'second')).toBe('first');
    expect(await claimRequestHash(db(), bob, 'k', 'second')).toBe('second');
  });
});

describe('read-your-writes', () => {
  it('follow the read models’ checkpoint, and wait (bounded) for a job’s row', async () => {
    expect(await readModelPosition(db())).toBe(0);
    await insert('projection_checkpoints', [{ projection: 'read_models', version: 1, last_sequence: 42 }]);
    expect(await readModelPosition(db())).toBe(42);
    // The projector is hurried once per wait that does not find its write at the first look.
    let hurried = 0;
    const hurry = () => hurried++;
    expect(await waitForReadModel(db(), 42, { timeoutMs: 100, hurry })).toBe(true);
    expect(hurried).toBe(0);
    expect(await waitForReadModel(db(), 43, { timeoutMs: 100, hurry })).toBe(false);
    expect(hurried).toBe(1);
    const wf = workflow(alice, 57);
    await insert('workflows', [wf]);
    const j = job(alice, wf.id, 58);
    expect(await waitForJobRow(db(), alice, j.id, { timeoutMs: 50 })).toBe(false);
    setTimeout(() => void insert('jobs', [j]), 50);
    expect(await waitForJobRow(db(), alice, j.id, { timeoutMs: 5000, hurry })).toBe(true);
    expect(hurried).toBe(2);
    expect(await waitForJobRow(db(), bob, j.id, { timeoutMs: 50 })).toBe(false);
  });
});
