// A fixed script of requests against the whole system (no executor, so nothing moves on its own),
// its answers stored as files: status, the headers a client relies on, and the body, with ids, times,
// tokens and ports replaced by stable placeholders, plus /openapi.json. A refactoring of the read
// side must leave both files byte-identical; `vitest run -u` rewrites them after a deliberate change.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { ApiClient, startSystem, type TestSystem } from '../support/system.ts';

let system: TestSystem;

beforeAll(async () => {
  system = await startSystem({}, 'api,projector,scheduler');
});

afterAll(async () => {
  await system?.dispose();
});

const UUID = /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/g;
const TIME = /\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:Z|[+-]\d{2}:\d{2})/g;
const JWT = /eyJ[\w-]+\.[\w-]+\.[\w-]+/g;
const KEPT_HEADERS = [
  'content-type',
  'etag',
  'location',
  'cache-control',
  'content-disposition',
  'x-content-type-options',
];

function numbered(names: Map<string, string>, value: string, prefix: string): string {
  const known = names.get(value);
  if (known) return known;
  const name = `<${prefix}${names.size + 1}>`;
  names.set(value, name);
  return name;
}

/** Placeholders numbered by first appearance, so equal ids stay equal and distinct ones distinct. */
class Normaliser {
  private readonly ids = new Map<string, string>();
  private readonly opaque = new Map<string, string>();

  text(s: string): string {
    return s
      .replace(UUID, (id) => numbered(this.ids, id, 'id'))
      .replace(TIME, '<time>')
      .replace(JWT, '<jwt>')
      .replace(/127\.0\.0\.1:\d+/g, '127.0.0.1:<port>');
  }

  /** A request path, its cursor decoded. */
  path(p: string): string {
    return this.text(p.replace(/cursor=([\w-]+)/, (_, c: string) => `${this.value(c, 'cursor')}`));
  }

  /** A refresh token, opaque and random: numbered like ids. */
  token(s: string): string {
    return numbered(this.opaque, s, 'token');
  }

  value(v: unknown, key?: string): unknown {
    if (typeof v === 'string') {
      if (key === 'refresh_token') return this.token(v);
      if (key === 'next_cursor' || key === 'cursor') {
        // The cursor's content matters (clients send it back): decoded, then normalised.
        return `cursor:${this.text(Buffer.from(v, 'base64url').toString('utf8'))}`;
      }
      return this.text(v);
    }
    if (Array.isArray(v)) return v.map((x) => this.value(x));
    if (v && typeof v === 'object')
      return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, this.value(x, k)]));
    return v;
  }
}

it('answers a fixed script of requests as before', async () => {
  const n = new Normaliser();
  const log: unknown[] = [];
  const alice = new ApiClient(system.baseUrl);
  const bob = new ApiClient(system.baseUrl);

  async function call(
    client: ApiClient,
    method: string,
    path: string,
    options: { body?: unknown; headers?: Record<string, string> } = {},
  ) {
    const res = await fetch(`${system.baseUrl}${path}`, {
      method,
      headers: {
        ...(client.token ? { authorization: `Bearer ${client.token}` } : {}),
        ...(options.body === undefined ? {} : { 'content-type': 'application/json' }),
        ...options.headers,
      },
      ...(options.body === undefined ? {} : { body: JSON.stringify(options.body) }),
    });
    const text = await res.text();
    let body: unknown = text;
    try {
      body = text ? JSON.parse(text) : null;
    } catch {
      // not JSON: the text
    }
    const headers = Object.fromEntries(
      KEPT_HEADERS.flatMap((h) => {
        const v = res.headers.get(h);
        return v === null ? [] : [[h, n.text(v)]];
      }),
    );
    log.push({ request: `${method} ${n.path(path)}`, status: res.status, headers, body: n.value(body) });
    return { status: res.status, body: body as Record<string, unknown> & { items?: unknown[] } };
  }

  const register = async (client: ApiClient, email: string) => {
    const password = 'correct horse battery staple';
    await call(client, 'POST', '/auth/register', { body: { email, password } });
    const login = await call(client, 'POST', '/auth/login', { body: { email, password } });
    client.token = String(login.body.access_token);
  };
  await register(alice, 'alice@example.com');
  await register(bob, 'bob@example.com');
  await call(alice, 'POST', '/auth/register', { body: { email: 'alice@example.com', password: 'x' } });
  await call(alice, 'POST', '/auth/login', { body: { email: 'alice@example.com', password: 'wrong!!!!' } });
  await call(alice, 'GET', '/users/me');
  await call(alice, 'PATCH', '/users/me', { body: { notification_preference: 'ALL' } });

  const heartbeat = (name: string, interval: number) => ({
    name,
    kind: 'HEARTBEAT',
    payload: { endpoint: 'http://127.0.0.1:9/health' },
    interval,
  });
  const a = await call(alice, 'POST', '/workflows', {
    body: heartbeat('api health', 5),
    headers: { 'idempotency-key': 'key-1' },
  });
  await call(alice, 'POST', '/workflows', {
    body: heartbeat('api health', 5),
    headers: { 'idempotency-key': 'key-1' },
  });
  await call(alice, 'POST', '/workflows', {
    body: heartbeat('changed', 5),
    headers: { 'idempotency-key': 'key-1' },
  });
  const cron = await call(alice, 'POST', '/workflows', {
    body: {
      name: 'nightly_100%',
      kind: 'CONTAINER',
      payload: JSON.stringify({ image: 'chronoverse/busybox:local', cmd: ['echo', 'hi'] }),
      schedule: { cron: '0 3 * * *', timezone: 'Europe/Berlin' },
    },
  });
  await call(alice, 'POST', '/workflows', { body: heartbeat('other health', 60) });
  // The PATCH answers from the actor; the read model has it once a later write was waited for.
  await call(alice, 'GET', '/users/me');
  await call(bob, 'POST', '/workflows', { body: heartbeat('bob health', 10) });
  const id = String(a.body.id);
  const cronId = String(cron.body.id);

  await call(alice, 'GET', '/workflows');
  const first = await call(alice, 'GET', '/workflows?limit=2');
  await call(alice, 'GET', `/workflows?limit=2&cursor=${String(first.body.next_cursor)}`);
  await call(alice, 'GET', '/workflows?kind=CONTAINER');
  await call(alice, 'GET', '/workflows?query=HEALTH&interval_min=6');
  await call(alice, 'GET', '/workflows?query=_100%25');
  await call(alice, 'GET', '/workflows?status=PAUSED&build_status=COMPLETED');
  await call(alice, 'GET', '/workflows?cursor=not-a-cursor');
  await call(alice, 'GET', `/workflows?cursor=${Buffer.from('["x",1]').toString('base64url')}`);
  await call(alice, 'GET', '/workflows?limit=0');
  await call(alice, 'GET', `/workflows/${id}`);
  await call(bob, 'GET', `/workflows/${id}`);
  await call(alice, 'PUT', `/workflows/${id}`, { body: { name: 'renamed' }, headers: { 'if-match': '"1"' } });
  await call(alice, 'PUT', `/workflows/${id}`, { body: { name: 'renamed', interval: 7 } });
  await call(alice, 'PUT', `/workflows/${id}`, { body: { schedule: { cron: 'nope' } } });
  await call(bob, 'PUT', `/workflows/${id}`, { body: { name: 'stolen' } });
  await call(alice, 'POST', `/workflows/${cronId}/pause`);
  await call(alice, 'POST', `/workflows/${cronId}/resume`, { headers: { 'if-match': 'garbage' } });
  await call(alice, 'POST', `/workflows/${cronId}/resume`);
  await call(alice, 'GET', `/workflows/${id}/history`);
  await call(alice, 'GET', `/workflows/${id}/history?after=1&limit=1`);
  await call(bob, 'GET', `/workflows/${id}/history`);

  const run = await call(alice, 'POST', `/workflows/${id}/jobs/schedule`, {
    headers: { 'idempotency-key': 'run-1' },
  });
  await call(alice, 'POST', `/workflows/${id}/jobs/schedule`, { headers: { 'idempotency-key': 'run-1' } });
  const second = await call(alice, 'POST', `/workflows/${id}/jobs/schedule`);
  const jobId = String(run.body.job_id);
  const jobs = `/workflows/${id}/jobs`;
  await call(alice, 'GET', jobs);
  const jobPage = await call(alice, 'GET', `${jobs}?limit=1`);
  await call(alice, 'GET', `${jobs}?limit=1&cursor=${String(jobPage.body.next_cursor)}`);
  await call(alice, 'GET', `${jobs}?status=QUEUED&trigger=MANUAL`);
  await call(bob, 'GET', jobs);
  await call(alice, 'GET', `${jobs}/${jobId}`);
  await call(alice, 'GET', `/workflows/${cronId}/jobs/${jobId}`);
  await call(alice, 'POST', `${jobs}/${jobId}/cancel`);
  await call(alice, 'POST', `${jobs}/${jobId}/cancel`);
  await call(bob, 'POST', `${jobs}/${jobId}/cancel`);
  await call(alice, 'GET', `${jobs}/${jobId}`);
  await call(alice, 'GET', `${jobs}/${jobId}/history`);
  await call(alice, 'GET', `/workflows/${cronId}/jobs/${jobId}/history`);

  const logs = `${jobs}/${jobId}/logs`;
  await call(alice, 'GET', logs);
  await call(alice, 'GET', `${logs}?order=asc&limit=5&stream=stderr`);
  await call(alice, 'GET', `${logs}?cursor=${Buffer.from('[1,-1]').toString('base64url')}`);
  await call(alice, 'GET', `${logs}/search?q=hello`);
  await call(alice, 'GET', `${logs}/search`);
  await call(alice, 'GET', `${logs}/raw`);
  await call(alice, 'GET', `${logs}/raw?format=json`);
  await call(alice, 'GET', `${logs}/raw?format=jsonl`);
  await call(alice, 'GET', `${jobs}/${String(second.body.job_id)}/logs/raw`);
  await call(bob, 'GET', logs);
  await call(alice, 'GET', `${jobs}/${jobId}/events`);
  await call(alice, 'GET', `${jobs}/${jobId}/events`, { headers: { 'last-event-id': 'x' } });

  await call(alice, 'GET', `/workflows/${id}/ticks`);
  await call(alice, 'GET', `/workflows/${id}/ticks?outcome=skipped&limit=3`);
  await call(alice, 'GET', `/workflows/${id}/ticks?cursor=${Buffer.from('["x"]').toString('base64url')}`);
  await call(bob, 'GET', `/workflows/${id}/ticks`);
  await call(alice, 'GET', `/workflows/${cronId}/schedule/preview?count=3`);
  await call(bob, 'GET', `/workflows/${cronId}/schedule/preview`);

  const notes = await call(alice, 'GET', '/notifications');
  await call(alice, 'GET', '/notifications?limit=1');
  const ids = (notes.body.items as { id: string }[]).map((x) => x.id);
  if (ids[0]) await call(alice, 'POST', '/notifications/read', { body: { ids: [ids[0]] } });
  const page = await call(alice, 'GET', '/notifications?limit=1');
  await call(alice, 'GET', `/notifications?limit=1&cursor=${String(page.body.next_cursor)}`);
  await call(alice, 'GET', '/notifications?unread=true');
  await call(bob, 'GET', '/notifications');

  await call(alice, 'GET', '/analytics');
  await call(alice, 'GET', `/analytics/workflows/${id}`);
  await call(bob, 'GET', `/analytics/workflows/${id}`);
  await call(alice, 'DELETE', `/workflows/${cronId}`);
  await call(alice, 'GET', `/workflows/${cronId}`);

  // The live stream of every state change so far: a sentinel command ends the part that is read.
  const events = await readEvents(alice, async () => {
    await call(alice, 'POST', `/workflows/${id}/terminate`);
  });
  log.push({ request: 'GET /events (Last-Event-ID: 0)', events: n.value(events) });

  const openapi = await (await fetch(`${system.baseUrl}/openapi.json`)).text();
  await expect(`${JSON.stringify(log, null, 2)}\n`).toMatchFileSnapshot('./__snapshots__/api-responses.snap');
  await expect(`${n.text(openapi)}\n`).toMatchFileSnapshot('./__snapshots__/openapi.snap');
});

/** The events of /events from the start up to (not including) the commit of the sentinel. */
async function readEvents(client: ApiClient, sentinel: () => Promise<void>) {
  const abort = new AbortController();
  const res = await fetch(`${client.baseUrl}/events`, {
    headers: { authorization: `Bearer ${client.token}`, 'last-event-id': '0' },
    signal: abort.signal,
  });
  await sentinel();
  const reader = (res.body as ReadableStream<Uint8Array>).pipeThrough(new TextDecoderStream()).getReader();
  const events: { event: string; id: string | undefined; data: unknown }[] = [];
  let buffer = '';
  const deadline = Date.now() + 20_000;
  try {
    for (;;) {
      if (Date.now() > deadline) throw new Error(`no sentinel in ${JSON.stringify(events)}`);
      const { value, done } = await reader.read();
      if (done) throw new Error('/events ended');
      buffer += value;
      for (let end = buffer.indexOf('\n\n'); end >= 0; end = buffer.indexOf('\n\n')) {
        const block = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        const e = { event: 'message', id: undefined as string | undefined, data: '' };
        for (const line of block.split('\n')) {
          if (line.startsWith('event: ')) e.event = line.slice(7);
          else if (line.startsWith('id: ')) e.id = line.slice(4);
          else if (line.startsWith('data: ')) e.data += line.slice(6);
        }
        if (!e.data) continue;
        const data = JSON.parse(e.data) as { type?: string };
        if (data.type === 'WorkflowTerminated') return events;
        events.push({ ...e, data });
      }
    }
  } finally {
    abort.abort();
  }
}
