// The workflow, job, notification, analytics and history routes end to end: a real socket, the whole
// system (`chronoverse all`) on real NATS, PostgreSQL and ClickHouse.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitUntil } from '../../src/stack/process-control.ts';
import { ApiClient, startSystem, type TestSystem } from '../support/system.ts';

let system: TestSystem;
let alice: ApiClient;

const heartbeat = (name: string, extra: Record<string, unknown> = {}) => ({
  name,
  kind: 'HEARTBEAT',
  payload: { endpoint: 'http://127.0.0.1:9/health' },
  interval: 5,
  ...extra,
});

type Page<T> = { items: T[]; next_cursor: string | null };
type WorkflowJson = {
  id: string;
  name: string;
  status: string;
  kind: string;
  interval: number | null;
  version: number;
};
type JobJson = { id: string; status: string; trigger: string };

beforeAll(async () => {
  // No executor: jobs stay queued until the test moves them (cancel), so nothing races the assertions.
  system = await startSystem({}, 'api,projector,scheduler');
  alice = new ApiClient(system.baseUrl);
  await alice.signUp('alice@example.com');
});

afterAll(async () => {
  await system?.dispose();
});

describe('workflows', () => {
  it('create, read, list with filters and pages, update with If-Match', async () => {
    const created = await alice.post<{ id: string; version: number }>('/workflows', heartbeat('api health'));
    expect(created.status).toBe(201);
    expect(created.headers.get('etag')).toBe(`"${created.body.version}"`);
    expect(created.headers.get('location')).toBe(`/workflows/${created.body.id}`);
    const id = created.body.id;

    const read = await alice.get<WorkflowJson & { payload: Record<string, unknown>; build_status: string }>(
      `/workflows/${id}`,
    );
    expect(read.status).toBe(200);
    expect(read.body).toMatchObject({
      id,
      name: 'api health',
      kind: 'HEARTBEAT',
      interval: 5,
      status: 'ACTIVE',
      build_status: 'COMPLETED',
    });
    // Defaults of the original's HEARTBEAT payload are filled in.
    expect(read.body.payload).toMatchObject({
      endpoint: 'http://127.0.0.1:9/health',
      expected_status_code: 200,
      timeout: '10s',
    });

    // A JSON-string payload, as the original's clients send it, and a cron schedule.
    const cron = await alice.post('/workflows', {
      name: 'nightly',
      kind: 'CONTAINER',
      payload: JSON.stringify({ image: 'chronoverse/busybox:local', cmd: ['echo', 'hi'] }),
      schedule: { cron: '0 3 * * *', timezone: 'Europe/Berlin' },
    });
    expect(cron.status).toBe(201);
    await alice.post('/workflows', heartbeat('other health', { interval: 60 }));

    const all = await alice.get<Page<WorkflowJson>>('/workflows');
    expect(all.body.items.map((w) => w.name)).toEqual(['other health', 'nightly', 'api health']);
    expect(
      (await alice.get<Page<WorkflowJson>>('/workflows?kind=CONTAINER')).body.items.map((w) => w.name),
    ).toEqual(['nightly']);
    expect((await alice.get<Page<WorkflowJson>>('/workflows?query=HEALTH')).body.items).toHaveLength(2);
    expect(
      (await alice.get<Page<WorkflowJson>>('/workflows?interval_min=10&interval_max=100')).body.items.map(
        (w) => w.name,
      ),
    ).toEqual(['other health']);
    // % and _ in the query match themselves, not everything.
    expect((await alice.get<Page<WorkflowJson>>('/workflows?query=%25')).body.items).toHaveLength(0);

    const first = await alice.get<Page<WorkflowJson>>('/workflows?limit=2');
    expect(first.body.items).toHaveLength(2);
    expect(first.body.next_cursor).toBeTypeOf('string');
    const second = await alice.get<Page<WorkflowJson>>(`/workflows?limit=2&cursor=${first.body.next_cursor}`);
    expect(second.body.items.map((w) => w.name)).toEqual(['api health']);
    expect(second.body.next_cursor).toBeNull();

    const stale = await alice.request('PUT', `/workflows/${id}`, {
      body: { name: 'renamed' },
      headers: { 'if-match': '"1"' },
    });
    expect(stale.status).toBe(412);
    expect(stale.body).toMatchObject({ code: 'version_mismatch' });
    const updated = await alice.request<WorkflowJson>('PUT', `/workflows/${id}`, {
      body: { name: 'renamed', interval: 15 },
      headers: { 'if-match': read.headers.get('etag')! },
    });
    expect(updated.status).toBe(200);
    expect(updated.body).toMatchObject({ name: 'renamed', interval: 15 });
    expect(updated.headers.get('etag')).toBe(`"${updated.body.version}"`);
  });

  it('pause, resume, terminate, and delete only once terminated', async () => {
    const { id } = (await alice.post<{ id: string }>('/workflows', heartbeat('lifecycle'))).body;
    expect((await alice.post<WorkflowJson>(`/workflows/${id}/pause`)).body.status).toBe('PAUSED');
    expect((await alice.post(`/workflows/${id}/pause`)).status).toBe(409);
    expect((await alice.post<WorkflowJson>(`/workflows/${id}/resume`)).body.status).toBe('ACTIVE');
    const early = await alice.request('DELETE', `/workflows/${id}`);
    expect(early.status).toBe(412);
    expect(early.body).toMatchObject({ code: 'workflow_not_terminated' });
    expect((await alice.post<WorkflowJson>(`/workflows/${id}/terminate`)).body.status).toBe('TERMINATED');
    expect((await alice.post(`/workflows/${id}/resume`)).status).toBe(409);
    expect((await alice.request('DELETE', `/workflows/${id}`)).status).toBe(204);
    expect((await alice.get(`/workflows/${id}`)).status).toBe(404);
    // Its audit log stays readable to its owner, and to no one else.
    const audit = await alice.get<{ items: { type: string }[] }>(`/workflows/${id}/history`);
    expect(audit.status).toBe(200);
    expect(audit.body.items.map((e) => e.type).at(-1)).toBe('WorkflowDeleted');
    const stranger = new ApiClient(system.baseUrl);
    await stranger.signUp('stranger.audit@example.com');
    expect((await stranger.get(`/workflows/${id}/history`)).status).toBe(404);
  });

  it('honours Idempotency-Key on create: same body, same workflow; other body, 409', async () => {
    const headers = { 'idempotency-key': 'create-once' };
    const a = await alice.post<{ id: string }>('/workflows', heartbeat('keyed'), headers);
    const b = await alice.post<{ id: string }>('/workflows', heartbeat('keyed'), headers);
    expect(a.status).toBe(201);
    expect(b.status).toBe(201);
    expect(b.body.id).toBe(a.body.id);
    const c = await alice.post('/workflows', heartbeat('something else'), headers);
    expect(c.status).toBe(409);
    expect(c.body).toMatchObject({ code: 'idempotency_key_reused' });
    const named = (await alice.get<Page<WorkflowJson>>('/workflows?query=keyed')).body.items;
    expect(named).toHaveLength(1);
  });
});

describe('jobs', () => {
  it('run now, list, read, cancel, and the histories of both', async () => {
    const { id } = (await alice.post<{ id: string }>('/workflows', heartbeat('runs'))).body;
    const run = await alice.post<{ job_id: string; scheduled_at: string }>(
      `/workflows/${id}/jobs/schedule`,
      undefined,
      { 'idempotency-key': 'run-1' },
    );
    expect(run.status).toBe(201);
    // Read your write: the job answers right after the 201, though a reactor creates it.
    expect((await alice.get(`/workflows/${id}/jobs/${run.body.job_id}`)).status).toBe(200);
    const again = await alice.post<{ job_id: string }>(`/workflows/${id}/jobs/schedule`, undefined, {
      'idempotency-key': 'run-1',
    });
    expect(again.body.job_id).toBe(run.body.job_id);
    const jobId = run.body.job_id;

    // The scheduler's reactor creates and queues the job; the projector shows it.
    await waitUntil(
      'job queued',
      async () => (await alice.get<JobJson>(`/workflows/${id}/jobs/${jobId}`)).body.status === 'QUEUED',
      20_000,
    );
    const list = await alice.get<Page<JobJson>>(`/workflows/${id}/jobs?trigger=MANUAL`);
    expect(list.body.items.map((j) => j.id)).toEqual([jobId]);
    expect((await alice.get<Page<JobJson>>(`/workflows/${id}/jobs?status=COMPLETED`)).body.items).toEqual([]);

    const canceled = await alice.post<JobJson>(`/workflows/${id}/jobs/${jobId}/cancel`);
    expect(canceled.status).toBe(200);
    expect(canceled.body.status).toBe('CANCELED');
    expect((await alice.post(`/workflows/${id}/jobs/${jobId}/cancel`)).status).toBe(409);
    const final = await alice.get(`/workflows/${id}/jobs/${jobId}`);
    expect(final.headers.get('cache-control')).toContain('immutable');

    const jobHistory = await alice.get<{ items: { type: string }[] }>(
      `/workflows/${id}/jobs/${jobId}/history`,
    );
    expect(jobHistory.body.items.map((e) => e.type)).toEqual(['JobCreated', 'JobQueued', 'JobCanceled']);
    await waitUntil(
      'outcome recorded',
      async () => {
        const h = await alice.get<{ items: { type: string }[] }>(`/workflows/${id}/history`);
        return h.body.items.some((e) => e.type === 'JobOutcomeRecorded');
      },
      20_000,
    );
    const history = await alice.get<{ items: { type: string; sequence: number }[] }>(
      `/workflows/${id}/history?limit=1`,
    );
    expect(history.body.items.map((e) => e.type)).toEqual(['WorkflowCreated', 'WorkflowBuildCompleted']);
  });
});

describe('notifications and analytics', () => {
  it('shows what the preference asks for, unread first, and marks read', async () => {
    const bob = new ApiClient(system.baseUrl);
    await bob.signUp('bob.notify@example.com');
    expect(
      (await bob.request('PATCH', '/users/me', { body: { notification_preference: 'ALL' } })).status,
    ).toBe(200);
    const { id } = (await bob.post<{ id: string }>('/workflows', heartbeat('noisy'))).body;
    const { job_id } = (await bob.post<{ job_id: string }>(`/workflows/${id}/jobs/schedule`)).body;
    await waitUntil(
      'queued',
      async () => (await bob.get<JobJson>(`/workflows/${id}/jobs/${job_id}`)).body.status === 'QUEUED',
      20_000,
    );
    await bob.post(`/workflows/${id}/jobs/${job_id}/cancel`);
    await bob.post(`/workflows/${id}/pause`);

    type Notification = {
      id: string;
      kind: string;
      title: string;
      read_at: string | null;
      action_url: string;
    };
    const list = await bob.get<Page<Notification>>('/notifications');
    expect(list.body.items.map((n) => n.title)).toEqual(['Workflow paused', 'Job canceled']);
    expect(list.body.items[1]!.action_url).toBe(`/workflows/${id}/jobs/${job_id}`);

    const [paused] = list.body.items;
    expect((await bob.post('/notifications/read', { ids: [paused!.id] })).status).toBe(204);
    const after = await bob.get<Page<Notification>>('/notifications');
    // Unread first: the canceled job's notification now comes before the read one.
    expect(after.body.items.map((n) => [n.title, n.read_at === null])).toEqual([
      ['Job canceled', true],
      ['Workflow paused', false],
    ]);
    expect((await bob.get<Page<Notification>>('/notifications?unread=true')).body.items).toHaveLength(1);

    const analytics = await bob.get<{ workflows: number; jobs_total: number; jobs_canceled: number }>(
      '/analytics',
    );
    expect(analytics.body).toMatchObject({ workflows: 1, jobs_total: 1, jobs_canceled: 1 });
    const wf = await bob.get<{ jobs_total: number }>(`/analytics/workflows/${id}`);
    expect(wf.body.jobs_total).toBe(1);
  });
});

describe('schedule', () => {
  type TickJson = { nominal_at: string; outcome: string; reason: string | null; job_id: string | null };

  it('records every tick in the ledger, and previews the next ones in UTC and local time', async () => {
    const created = await alice.post<{ id: string }>('/workflows', {
      name: 'every second',
      kind: 'HEARTBEAT',
      payload: { endpoint: 'http://127.0.0.1:9/' },
      schedule: { cron: '* * * * * *', timezone: 'UTC' },
      overlap_policy: 'allow',
    });
    expect(created.status).toBe(201);
    const id = created.body.id;
    await waitUntil(
      'three ticks',
      async () => (await alice.get<Page<TickJson>>(`/workflows/${id}/ticks`)).body.items.length >= 3,
      30_000,
    );
    const ticks = (await alice.get<Page<TickJson>>(`/workflows/${id}/ticks`)).body.items;
    const seconds = ticks.map((t) => Date.parse(t.nominal_at));
    // Newest first, one per second, each fired with its own job.
    expect(seconds.every((s, i) => i === 0 || seconds[i - 1]! - s === 1000)).toBe(true);
    expect(ticks.every((t) => t.outcome === 'fired' && t.job_id)).toBe(true);
    await alice.post(`/workflows/${id}/terminate`);

    const berlin = await alice.post<{ id: string }>('/workflows', {
      name: 'nightly in Berlin',
      kind: 'HEARTBEAT',
      payload: { endpoint: 'http://127.0.0.1:9/' },
      schedule: { cron: '30 2 * * *', timezone: 'Europe/Berlin' },
      dst: { nonexistent: 'skip' },
      catch_up: 'none',
    });
    const preview = await alice.get<{ items: { at: string; local: string; dst: string | null }[] }>(
      `/workflows/${berlin.body.id}/schedule/preview?count=3`,
    );
    expect(preview.status).toBe(200);
    expect(preview.body.items).toHaveLength(3);
    for (const item of preview.body.items) {
      expect(item.local).toMatch(/T02:30:00[+-]0[12]:00$/);
      expect(new Date(item.at).toISOString()).toBe(item.at);
    }
    const wf = await alice.get<{ schedule: Record<string, unknown> }>(`/workflows/${berlin.body.id}`);
    expect(wf.body.schedule).toMatchObject({ type: 'cron', dst: { nonexistent: 'skip' }, catch_up: 'none' });
  });

  it('fires at most max_runs scheduled runs, then ends the workflow with reason run_limit and a notification', async () => {
    const carol = new ApiClient(system.baseUrl);
    await carol.signUp('carol.limits@example.com');
    await carol.request('PATCH', '/users/me', { body: { notification_preference: 'ALL' } });
    const created = await carol.post<{ id: string }>('/workflows', {
      name: 'three times',
      kind: 'HEARTBEAT',
      payload: { endpoint: 'http://127.0.0.1:9/' },
      schedule: { cron: '* * * * * *', timezone: 'UTC' },
      overlap_policy: 'allow',
      max_runs: 3,
    });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    const id = created.body.id;
    const read = await carol.get<{ schedule: { max_runs?: number } }>(`/workflows/${id}`);
    expect(read.body.schedule.max_runs).toBe(3);
    // A run-now does not count against the limit.
    expect((await carol.post(`/workflows/${id}/jobs/schedule`)).status).toBe(201);
    await waitUntil(
      'terminated by its run limit',
      async () => (await carol.get<WorkflowJson>(`/workflows/${id}`)).body.status === 'TERMINATED',
      30_000,
    );
    const wf = await carol.get<{ terminated_reason: string }>(`/workflows/${id}`);
    expect(wf.body.terminated_reason).toBe('run_limit');
    const jobs = (await carol.get<Page<JobJson>>(`/workflows/${id}/jobs`)).body.items;
    expect(jobs.filter((j) => j.trigger === 'AUTOMATIC')).toHaveLength(3);
    expect(jobs.filter((j) => j.trigger === 'MANUAL')).toHaveLength(1);
    // Two more seconds: nothing fires after the limit.
    await new Promise((r) => setTimeout(r, 2000));
    const fired = (await carol.get<Page<TickJson>>(`/workflows/${id}/ticks?outcome=fired`)).body.items;
    expect(fired).toHaveLength(3);
    await waitUntil(
      'notified',
      async () =>
        (await carol.get<Page<{ title: string }>>('/notifications')).body.items.some(
          (n) => n.title === 'Workflow finished its runs',
        ),
      10_000,
    );
    const history = await carol.get<{ items: { type: string; data: { reason?: string } }[] }>(
      `/workflows/${id}/history`,
    );
    const end = history.body.items.find((e) => e.type === 'WorkflowTerminated');
    expect(end?.data.reason).toBe('run_limit');

    for (const max_runs of [0, 1.5, 'ten', 1_000_001]) {
      const res = await carol.post<{ code: string }>('/workflows', {
        name: 'bad limit',
        kind: 'HEARTBEAT',
        payload: { endpoint: 'http://127.0.0.1:9/' },
        interval: 5,
        max_runs,
      });
      expect([max_runs, res.status]).toEqual([max_runs, 422]);
    }
  });

  it('refuses schedule policies that do not hold together', async () => {
    const base = { name: 'x', kind: 'HEARTBEAT', payload: { endpoint: 'http://127.0.0.1:9/' } };
    const bad = [
      { ...base, interval: 5, start_at: '2026-12-02T00:00:00Z', end_at: '2026-12-01T00:00:00Z' },
      { ...base, interval: 5, overlap_policy: 'sometimes' },
      { ...base, interval: 5, at: '2026-12-01T00:00:00Z' },
      { ...base, at: 'tomorrow' },
      { ...base, interval: 5, dst: { nonexistent: 'later' } },
    ];
    for (const body of bad) {
      const res = await alice.post<{ code: string }>('/workflows', body);
      expect([JSON.stringify(body), res.status, res.body.code]).toEqual([
        JSON.stringify(body),
        422,
        'validation_failed',
      ]);
    }
  });
});
