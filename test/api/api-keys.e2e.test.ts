// API keys against the real API (its own processes, real NATS and PostgreSQL): a key is shown once and
// stored only as its SHA-256; it acts as its user within its scopes on every route of the document
// (a `read` key is refused every write with 403 insufficient_scope); no key manages keys or NATS
// credentials; the events a key causes name it; a revoked key is refused at once by the process that
// revoked it and within a second by another that had it cached; an expired key is refused; and no
// key reaches a process's log, even at debug level.
import { createHash, randomUUID } from 'node:crypto';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitUntil } from '../../src/stack/process-control.ts';
import { freePort } from '../support/nats-server.ts';
import { type RoleProcess, startRole } from '../support/role-process.ts';
import { ApiClient, startSystem, type TestSystem } from '../support/system.ts';

let system: TestSystem;
let second: RoleProcess;
let secondUrl: string;
let alice: ApiClient;
const secrets: string[] = [];

type Key = {
  id: string;
  key?: string;
  name: string;
  scopes: string[];
  created_at: string;
  expires_at: string | null;
  last_used_at: string | null;
};

const heartbeat = (name: string) => ({
  name,
  kind: 'HEARTBEAT',
  payload: { endpoint: 'https://example.com/health' },
  interval: 10_080,
});

beforeAll(async () => {
  system = await startSystem({ CV_LOG_LEVEL: 'debug' }, 'api,projector');
  const port = await freePort();
  second = startRole('api', system.dbs.config, { CV_HTTP_PORT: String(port), CV_LOG_LEVEL: 'debug' });
  secondUrl = `http://127.0.0.1:${port}`;
  try {
    await waitUntil('second api up', async () => (await fetch(`${secondUrl}/healthz`)).ok, 60_000);
  } catch (err) {
    throw new Error(`${String(err)}\n${second.output()}`);
  }
  alice = new ApiClient(system.baseUrl);
  await alice.signUp('alice-keys@example.com');
}, 120_000);

afterAll(async () => {
  await second?.kill('SIGTERM');
  await system?.dispose();
});

async function createKey(body: Record<string, unknown>): Promise<Key & { key: string }> {
  const res = await alice.post<Key & { key: string }>('/api-keys', body);
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  secrets.push(res.body.key);
  return res.body;
}

function as(key: string, baseUrl = system.baseUrl): ApiClient {
  const client = new ApiClient(baseUrl);
  client.token = key;
  return client;
}

describe('creating and listing', () => {
  it('shows the key once, stores only its SHA-256, and lists it with its creation and last use', async () => {
    const created = await createKey({ name: 'ci deploy', scopes: ['write', 'read'] });
    expect(created.key).toMatch(/^cvk_[A-Za-z0-9_-]{43}$/);
    expect(created).toMatchObject({ name: 'ci deploy', scopes: ['read', 'write'], expires_at: null });

    const listed = await alice.get<{ items: Key[] }>('/api-keys');
    const row = listed.body.items.find((k) => k.id === created.id);
    expect(row).toMatchObject({ name: 'ci deploy', last_used_at: null });
    expect(JSON.stringify(listed.body)).not.toContain(created.key);

    const db = new pg.Client({ connectionString: system.dbs.config.DATABASE_URL });
    await db.connect();
    try {
      const { rows } = await db.query('select * from api_keys where id = $1', [created.id]);
      expect(rows).toHaveLength(1);
      expect(rows[0].token_hash).toBe(createHash('sha256').update(created.key).digest('hex'));
      expect(JSON.stringify(rows)).not.toContain(created.key.slice(4));
    } finally {
      await db.end();
    }

    expect((await as(created.key).get('/users/me')).status).toBe(200);
    await waitUntil(
      'last use listed',
      async () =>
        (await alice.get<{ items: Key[] }>('/api-keys')).body.items.find((k) => k.id === created.id)
          ?.last_used_at != null,
      5000,
    );
  });

  it('refuses an expiry in the past, an unknown scope and no scope', async () => {
    const past = await alice.post('/api-keys', {
      name: 'x',
      scopes: ['read'],
      expires_at: '2020-01-01T00:00:00Z',
    });
    expect(past.status).toBe(422);
    expect(past.body).toMatchObject({ code: 'expires_at_in_past' });
    expect((await alice.post('/api-keys', { name: 'x', scopes: ['admin'] })).status).toBe(422);
    expect((await alice.post('/api-keys', { name: 'x', scopes: [] })).status).toBe(422);
  });
});

describe('scopes', () => {
  it('a write key acts as its user, and the events it causes name it', async () => {
    const key = await createKey({ name: 'writer', scopes: ['read', 'write'] });
    const writer = as(key.key);
    const created = await writer.post<{ id: string }>('/workflows', heartbeat('made by a key'));
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    expect((await alice.get(`/workflows/${created.body.id}`)).status).toBe(200);
    expect((await writer.post(`/workflows/${created.body.id}/pause`)).status).toBe(200);

    const history = await alice.get<{ items: { type: string; api_key_id: string | null }[] }>(
      `/workflows/${created.body.id}/history`,
    );
    const byType = Object.fromEntries(history.body.items.map((e) => [e.type, e.api_key_id]));
    expect(byType.WorkflowCreated).toBe(key.id);
    expect(byType.WorkflowPaused).toBe(key.id);

    // A login's own commands name no key.
    expect((await alice.post(`/workflows/${created.body.id}/resume`)).status).toBe(200);
    const after = await alice.get<{ items: { type: string; api_key_id: string | null }[] }>(
      `/workflows/${created.body.id}/history`,
    );
    expect(after.body.items.find((e) => e.type === 'WorkflowResumed')?.api_key_id).toBeNull();
  });

  it('a read key reads every route and is refused every write (403 insufficient_scope); no key manages keys', async () => {
    const reader = as((await createKey({ name: 'reader', scopes: ['read'] })).key);
    const writer = as((await createKey({ name: 'writer 2', scopes: ['write'] })).key);
    const workflow = await alice.post<{ id: string }>('/workflows', heartbeat('read me'));
    const id = workflow.body.id;
    const doc = (
      await alice.get<{ paths: Record<string, Record<string, { security?: unknown[] }>> }>('/openapi.json')
    ).body;
    const keyRoutes = /^\/(api-keys|integrations\/)/;
    let writes = 0;
    let reads = 0;
    for (const [template, item] of Object.entries(doc.paths)) {
      const path = template
        .replace('{id}', id)
        .replace('{jobId}', randomUUID())
        .replace(/\{[^}]+\}/g, randomUUID());
      for (const [method, op] of Object.entries(item)) {
        if (!op.security || op.security.length === 0) continue;
        if (path.endsWith('/events')) continue; // live streams: a GET that stays open
        const m = method.toUpperCase();
        const body = m === 'GET' || m === 'DELETE' ? {} : { body: {} };
        const answer = await reader.request(m, path, body);
        const code = (answer.body as { code?: string } | undefined)?.code;
        if (keyRoutes.test(template)) {
          expect([answer.status, code], `${m} ${template}`).toEqual([403, 'api_key_not_allowed']);
          const w = await writer.request(m, path, body);
          expect([w.status, (w.body as { code?: string }).code], `${m} ${template} (write key)`).toEqual([
            403,
            'api_key_not_allowed',
          ]);
        } else if (m === 'GET') {
          reads++;
          expect([401, 403], `${m} ${template}: ${JSON.stringify(answer.body)}`).not.toContain(answer.status);
        } else {
          writes++;
          expect([answer.status, code], `${m} ${template}`).toEqual([403, 'insufficient_scope']);
          expect(answer.headers.get('www-authenticate')).toContain('insufficient_scope');
        }
      }
    }
    expect(writes).toBeGreaterThan(8);
    expect(reads).toBeGreaterThan(10);
    // Nothing the read key tried was written.
    expect((await alice.get<{ status: string }>(`/workflows/${id}`)).body.status).toBe('ACTIVE');
  });
});

describe('revocation and expiry', () => {
  it('a revoked key is refused at once here and within a second by another process that had it cached', async () => {
    const key = await createKey({ name: 'to revoke', scopes: ['read'] });
    const here = as(key.key);
    const there = as(key.key, secondUrl);
    expect((await here.get('/workflows')).status).toBe(200);
    expect((await there.get('/workflows')).status).toBe(200);

    const revoked = await alice.request('DELETE', `/api-keys/${key.id}`);
    expect(revoked.status).toBe(204);
    const at = Date.now();
    expect((await here.get('/workflows')).status).toBe(401);
    await waitUntil(
      'refused by the second process',
      async () => (await there.get('/workflows')).status === 401,
      3000,
    );
    expect(Date.now() - at).toBeLessThan(1200);
    expect((await alice.get<{ items: Key[] }>('/api-keys')).body.items.map((k) => k.id)).not.toContain(
      key.id,
    );
    expect((await alice.request('DELETE', `/api-keys/${key.id}`)).status).toBe(404);
  });

  it('an event stream opened with a key ends within a second or so of its revocation, on any process', async () => {
    const key = await createKey({ name: 'streaming', scopes: ['read'] });
    const streams = [system.baseUrl, secondUrl].map(async (baseUrl) => {
      const res = await fetch(`${baseUrl}/events`, {
        headers: { authorization: `Bearer ${key.key}`, accept: 'text/event-stream' },
      });
      expect(res.status).toBe(200);
      let text = '';
      const decoder = new TextDecoder();
      for await (const chunk of res.body as ReadableStream<Uint8Array>) text += decoder.decode(chunk);
      return { text, endedAt: Date.now() };
    });
    await new Promise((r) => setTimeout(r, 1500));
    expect((await alice.request('DELETE', `/api-keys/${key.id}`)).status).toBe(204);
    const revokedAt = Date.now();
    for (const ended of await Promise.all(streams)) {
      expect(ended.text).toContain('credential_revoked');
      expect(ended.endedAt - revokedAt).toBeLessThan(2500);
    }
  });

  it('an expired key is refused', async () => {
    const key = await createKey({
      name: 'short',
      scopes: ['read'],
      expires_at: new Date(Date.now() + 2000).toISOString(),
    });
    expect((await as(key.key).get('/workflows')).status).toBe(200);
    await new Promise((r) => setTimeout(r, 2100));
    const refused = await as(key.key).get('/workflows');
    expect(refused.status).toBe(401);
    expect(refused.body).toMatchObject({ code: 'invalid_token' });
    expect((await as('cvk_not-a-real-key').get('/workflows')).status).toBe(401);
  });

  it('another user cannot revoke or see a key', async () => {
    const key = await createKey({ name: 'mine', scopes: ['read'] });
    const bob = new ApiClient(system.baseUrl);
    await bob.signUp('bob-keys@example.com');
    expect((await bob.request('DELETE', `/api-keys/${key.id}`)).status).toBe(404);
    expect((await bob.get<{ items: Key[] }>('/api-keys')).body.items).toEqual([]);
    expect((await as(key.key).get('/workflows')).status).toBe(200);
  });
});

describe('logs', () => {
  it('no key appears in either process’s output, at debug level', () => {
    expect(secrets.length).toBeGreaterThan(4);
    const output = system.process.output() + second.output();
    for (const s of secrets) expect(output).not.toContain(s.slice(4));
  });
});
