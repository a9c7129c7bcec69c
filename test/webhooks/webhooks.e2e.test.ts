// Outbound webhooks against the real system (api and projector processes, NATS, PostgreSQL) and a
// real HTTP receiver: the subscription API (secret shown once, owner only, write scope, 422 codes for
// a bad URL, an internal or plain-HTTP address, an unknown event type, a stranger's workflow); every
// delivery's signature checked with the snippet docs/webhooks.md gives users; a receiver that keeps
// failing disables its subscription after CV_WEBHOOK_DISABLE_AFTER_FAILURES attempts and alerts the
// user; enabling it again sends what was pending; a job's events (whose workflow the worker finds
// from the job) reach a subscription to its workflow, in order.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitUntil } from '../../src/stack/process-control.ts';
import { ApiClient, startSystem, type TestSystem } from '../support/system.ts';
import { documentedVerifier, type Verify, WebhookReceiver } from '../support/webhook-receiver.ts';

let system: TestSystem;
let alice: ApiClient;
let bob: ApiClient;
let verify: Verify;
const receiver = new WebhookReceiver();

type Webhook = {
  id: string;
  url: string;
  secret?: string;
  enabled: boolean;
  disabled_reason: string | null;
  event_types: string[];
  workflow_id: string | null;
};
type Delivery = { event_id: string; status: string; attempts: number; last_error: string | null };

beforeAll(async () => {
  verify = await documentedVerifier();
  await receiver.start();
  system = await startSystem(
    {
      CV_HEARTBEAT_ALLOWED_NETWORKS: '127.0.0.1',
      CV_WEBHOOK_BACKOFF_BASE_MS: '100',
      CV_WEBHOOK_BACKOFF_CAP_MS: '300',
      CV_WEBHOOK_POLL_MS: '100',
      CV_WEBHOOK_TIMEOUT_SECONDS: '3',
      CV_WEBHOOK_DISABLE_AFTER_FAILURES: '3',
    },
    'all',
  );
  alice = new ApiClient(system.baseUrl);
  await alice.signUp('alice-webhooks@example.com');
  bob = new ApiClient(system.baseUrl);
  await bob.signUp('bob-webhooks@example.com');
}, 120_000);

afterAll(async () => {
  await system?.dispose();
  await receiver.stop();
});

async function createWorkflow(client: ApiClient, name: string): Promise<string> {
  const res = await client.post<{ id: string }>('/workflows', {
    name,
    kind: 'HEARTBEAT',
    payload: { endpoint: 'https://example.invalid/health' },
    interval: 10_080,
  });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return res.body.id;
}

const rename = (client: ApiClient, id: string, name: string) =>
  client.request('PUT', `/workflows/${id}`, { body: { name } });

async function subscribe(body: Record<string, unknown>): Promise<Webhook & { secret: string }> {
  const res = await alice.post<Webhook & { secret: string }>('/webhooks', body);
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return res.body;
}

describe('the subscription API', () => {
  it('shows the secret once, lists and reads the subscription without it, and hides it from others', async () => {
    const hook = await subscribe({ url: receiver.url, event_types: ['WorkflowUpdated', 'WorkflowUpdated'] });
    expect(hook.secret).toMatch(/^whsec_[A-Za-z0-9_-]{43}$/);
    expect(hook).toMatchObject({ url: receiver.url, event_types: ['WorkflowUpdated'], enabled: true });
    const read = await alice.get<Webhook>(`/webhooks/${hook.id}`);
    expect(read.status).toBe(200);
    expect(JSON.stringify(read.body)).not.toContain(hook.secret);
    const list = await alice.get<{ items: Webhook[] }>('/webhooks?limit=1');
    expect(list.body.items.map((w) => w.id)).toEqual([hook.id]);
    expect(JSON.stringify(list.body)).not.toContain(hook.secret);

    expect((await bob.get(`/webhooks/${hook.id}`)).status).toBe(404);
    expect((await bob.get(`/webhooks/${hook.id}/deliveries`)).status).toBe(404);
    expect((await bob.request('PATCH', `/webhooks/${hook.id}`, { body: { enabled: false } })).status).toBe(
      404,
    );
    expect((await bob.request('DELETE', `/webhooks/${hook.id}`)).status).toBe(404);
    expect((await bob.get<{ items: unknown[] }>('/webhooks')).body.items).toEqual([]);
    expect((await alice.request('DELETE', `/webhooks/${hook.id}`)).status).toBe(204);
    expect((await alice.get(`/webhooks/${hook.id}`)).status).toBe(404);
  });

  it('refuses bad URLs, internal and plain-HTTP addresses, unknown types and a stranger’s workflow with 422 codes', async () => {
    const bobsWorkflow = await createWorkflow(bob, 'bob-only');
    const cases: [Record<string, unknown>, string, string][] = [
      [{ url: 'https://169.254.169.254/latest', event_types: ['JobCompleted'] }, 'url_not_allowed', 'url'],
      [{ url: 'https://10.1.2.3/hook', event_types: ['JobCompleted'] }, 'url_not_allowed', 'url'],
      [{ url: 'http://8.8.8.8/hook', event_types: ['JobCompleted'] }, 'insecure_url', 'url'],
      [{ url: 'https://exa mple.com/', event_types: ['JobCompleted'] }, 'validation_failed', 'url'],
      [{ url: 'https://[zz]/', event_types: ['JobCompleted'] }, 'invalid_url', 'url'],
      [{ url: 'ftp://example.com/', event_types: ['JobCompleted'] }, 'validation_failed', 'url'],
      [{ url: receiver.url, event_types: ['JobExploded'] }, 'validation_failed', 'event_types'],
      [{ url: receiver.url, event_types: [] }, 'validation_failed', 'event_types'],
      [
        { url: receiver.url, event_types: ['JobCompleted'], workflow_id: bobsWorkflow },
        'webhook_workflow_not_found',
        'workflow_id',
      ],
    ];
    for (const [body, code, field] of cases) {
      const res = await alice.post<{ code: string; field?: string; errors?: { field: string }[] }>(
        '/webhooks',
        body,
      );
      expect([res.status, res.body.code], JSON.stringify(body)).toEqual([422, code]);
      const fields = [res.body.field, ...(res.body.errors ?? []).map((e) => e.field)].join(' ');
      expect(fields, JSON.stringify(res.body)).toContain(field);
    }
  });

  it('lets a read key list but not create, and a write key create', async () => {
    const keyOf = async (scopes: string[]) => {
      const res = await alice.post<{ key: string }>('/api-keys', { name: scopes.join('+'), scopes });
      const client = new ApiClient(system.baseUrl);
      client.token = res.body.key;
      return client;
    };
    const reader = await keyOf(['read']);
    expect((await reader.get('/webhooks')).status).toBe(200);
    const refused = await reader.post<{ code: string }>('/webhooks', {
      url: receiver.url,
      event_types: ['JobCompleted'],
    });
    expect([refused.status, refused.body.code]).toEqual([403, 'insufficient_scope']);
    const writer = await keyOf(['read', 'write']);
    const made = await writer.post<Webhook>('/webhooks', {
      url: receiver.url,
      event_types: ['JobCompleted'],
    });
    expect(made.status).toBe(201);
    expect((await writer.request('DELETE', `/webhooks/${made.body.id}`)).status).toBe(204);
  });
});

describe('deliveries', () => {
  it('sends each event of the subscribed types and workflow, signed as the documented snippet verifies', async () => {
    const one = await createWorkflow(alice, 'signed-one');
    const other = await createWorkflow(alice, 'signed-other');
    const hook = await subscribe({ url: receiver.url, event_types: ['WorkflowUpdated'], workflow_id: one });
    receiver.received.length = 0;
    for (const name of ['s1', 's2', 's3']) {
      expect((await rename(alice, one, name)).status).toBe(200);
      expect((await rename(alice, other, `x-${name}`)).status).toBe(200);
    }
    await waitUntil('three deliveries', async () => receiver.firstArrivals().length >= 3, 20_000);
    await new Promise((r) => setTimeout(r, 500)); // nothing else is on its way
    const got = receiver.firstArrivals();
    expect(
      got.map((r) => [r.body.workflow_id, r.body.type, (r.body.data.changes as { name: string }).name]),
    ).toEqual([
      [one, 'WorkflowUpdated', 's1'],
      [one, 'WorkflowUpdated', 's2'],
      [one, 'WorkflowUpdated', 's3'],
    ]);
    for (const r of receiver.received) {
      expect(verify(hook.secret, String(r.headers['chronoverse-signature']), r.raw)).toBe(true);
      expect(verify('whsec_not-the-secret', String(r.headers['chronoverse-signature']), r.raw)).toBe(false);
      expect(verify(hook.secret, String(r.headers['chronoverse-signature']), `${r.raw} `)).toBe(false);
      expect(r.headers['chronoverse-event-id']).toBe(r.body.id);
      expect(r.headers['chronoverse-event-type']).toBe('WorkflowUpdated');
      expect(r.headers['content-type']).toBe('application/json');
    }
    const log = await alice.get<{ items: Delivery[] }>(`/webhooks/${hook.id}/deliveries`);
    expect(log.body.items.map((d) => [d.status, d.attempts]).sort()).toEqual([
      ['delivered', 1],
      ['delivered', 1],
      ['delivered', 1],
    ]);
    expect(new Set(log.body.items.map((d) => d.event_id))).toEqual(new Set(got.map((r) => r.body.id)));
    expect((await alice.request('DELETE', `/webhooks/${hook.id}`)).status).toBe(204);
  });

  it('sends a job’s events, found by their workflow, in order', async () => {
    const res = await alice.post<{ id: string }>('/workflows', {
      name: 'probe',
      kind: 'HEARTBEAT',
      payload: { endpoint: `http://127.0.0.1:${receiver.port}/health` },
      interval: 10_080,
    });
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    const wf = res.body.id;
    const hook = await subscribe({
      url: receiver.url,
      event_types: ['JobCreated', 'JobQueued', 'JobStarted', 'JobCompleted', 'JobFailed'],
      workflow_id: wf,
    });
    receiver.received.length = 0;
    const run = await alice.post<{ job_id: string }>(`/workflows/${wf}/jobs/schedule`);
    expect(run.status, JSON.stringify(run.body)).toBe(201);
    await waitUntil('the job’s end delivered', async () => receiver.firstArrivals().length >= 4, 30_000);
    const got = receiver.firstArrivals();
    expect(got.map((r) => r.body.type)).toEqual(['JobCreated', 'JobQueued', 'JobStarted', 'JobCompleted']);
    for (const r of got) {
      expect(r.body).toMatchObject({ workflow_id: wf, aggregate: 'job', aggregate_id: run.body.job_id });
      expect(verify(hook.secret, String(r.headers['chronoverse-signature']), r.raw)).toBe(true);
    }
    expect((await alice.request('DELETE', `/webhooks/${hook.id}`)).status).toBe(204);
  });

  it('disables a subscription after 3 failed attempts in a row, alerts its user, and sends what waited once enabled', async () => {
    const wf = await createWorkflow(alice, 'failing');
    const hook = await subscribe({ url: receiver.url, event_types: ['WorkflowUpdated'], workflow_id: wf });
    receiver.received.length = 0;
    receiver.mode = 'fail';
    expect((await rename(alice, wf, 'f1')).status).toBe(200);
    expect((await rename(alice, wf, 'f2')).status).toBe(200);
    await waitUntil(
      'disabled',
      async () => !(await alice.get<Webhook>(`/webhooks/${hook.id}`)).body.enabled,
      20_000,
    );
    const disabled = await alice.get<Webhook & { consecutive_failures: number }>(`/webhooks/${hook.id}`);
    expect(disabled.body).toMatchObject({
      enabled: false,
      disabled_reason: 'consecutive_failures',
      consecutive_failures: 3,
    });
    // In order: only the first event was tried, three times.
    expect(receiver.received.map((r) => (r.body.data.changes as { name: string }).name)).toEqual([
      'f1',
      'f1',
      'f1',
    ]);
    const pending = await alice.get<{ items: Delivery[] }>(`/webhooks/${hook.id}/deliveries?status=pending`);
    expect(pending.body.items).toHaveLength(2);
    expect(pending.body.items.find((d) => d.attempts === 3)?.last_error).toBe('HTTP 500');

    const notes = await alice.get<{
      items: { kind: string; entity_type: string; entity_id: string; title: string }[];
    }>('/notifications');
    expect(notes.body.items).toContainEqual(
      expect.objectContaining({
        kind: 'WEB_ALERT',
        entity_type: 'WEBHOOK',
        entity_id: hook.id,
        title: 'Webhook disabled',
      }),
    );

    receiver.mode = 'ok';
    const enabled = await alice.request<Webhook>('PATCH', `/webhooks/${hook.id}`, {
      body: { enabled: true },
    });
    expect(enabled.body).toMatchObject({ enabled: true, disabled_reason: null });
    await waitUntil(
      'both delivered',
      async () => receiver.firstArrivals().length === 2 && receiver.received.length >= 5,
      20_000,
    );
    expect(receiver.received.slice(3).map((r) => (r.body.data.changes as { name: string }).name)).toEqual([
      'f1',
      'f2',
    ]);
    // The sender records a delivery once its answer is in, a moment after the receiver saw it.
    const delivered = async () =>
      (await alice.get<{ items: Delivery[] }>(`/webhooks/${hook.id}/deliveries?status=delivered`)).body.items;
    await waitUntil('both recorded as delivered', async () => (await delivered()).length >= 2, 10_000);
    expect(await delivered()).toHaveLength(2);
  });
});
