// Input no generator from the document would send (issue 14, item 2): random If-Match and
// Last-Event-ID headers, random content types, bodies over the size limit, JSON nested beyond any
// parser's stack, bytes that are not UTF-8. Each gets a 4xx problem (or, for a stream, its normal
// answer), never a 500; nothing refused leaves a write behind (the workflow's history and the list
// are as before); and the process keeps serving. fast-check, seeded (CV_FUZZ_SEED).
import { request } from 'node:http';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApiClient, startSystem, type TestSystem } from '../support/system.ts';

const SEED = Number(process.env.CV_FUZZ_SEED ?? 20261206);
let system: TestSystem;
let user: ApiClient;
let workflowId = '';
let jobId = '';

beforeAll(async () => {
  system = await startSystem({}, 'api,projector,scheduler');
  user = new ApiClient(system.baseUrl);
  await user.signUp('hostile@example.com');
  const created = await user.post<{ id: string }>('/workflows', {
    name: 'target',
    kind: 'HEARTBEAT',
    payload: { endpoint: 'http://127.0.0.1:9/' },
    interval: 60,
  });
  workflowId = created.body.id;
  jobId = (await user.post<{ job_id: string }>(`/workflows/${workflowId}/jobs/schedule`)).body.job_id;
});
afterAll(async () => {
  await system?.dispose();
});

/** What a refused request must not change: the workflow's history and the list. */
async function state() {
  const history = await user.get<{ items: unknown[] }>(`/workflows/${workflowId}/history?limit=1000`);
  const list = await user.get<{ items: { id: string; name: string; version: number }[] }>('/workflows');
  return { events: history.body.items.length, list: list.body.items };
}

async function raw(
  method: string,
  path: string,
  init: { headers?: Record<string, string>; body?: Uint8Array | string },
) {
  const res = await fetch(`${system.baseUrl}${path}`, {
    method,
    headers: { authorization: `Bearer ${user.token}`, ...init.headers },
    ...(init.body === undefined ? {} : { body: init.body }),
  });
  const text = await res.text();
  return { status: res.status, type: res.headers.get('content-type') ?? '', text };
}

function statusOfHugeBody(bytes: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request(`${system.baseUrl}/workflows`, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${user.token}`,
        'content-type': 'application/json',
        'content-length': bytes,
      },
    });
    req.on('response', (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    // Writing on after the answer may fail once the server closes: the answer is what counts.
    req.on('error', (err) => setTimeout(() => reject(err), 1000));
    const chunk = Buffer.alloc(64 * 1024, 0x61);
    for (let sent = 0; sent < bytes; sent += chunk.length) req.write(chunk);
    req.end();
  });
}

function expectRefused(a: { status: number; type: string; text: string }, what: string) {
  expect(a.status, `${what} → ${a.status} ${a.text.slice(0, 200)}`).toBeGreaterThanOrEqual(400);
  expect(a.status, `${what} → ${a.status} ${a.text.slice(0, 200)}`).toBeLessThan(500);
  expect(a.type).toContain('application/problem+json');
}

/** Any value a client can put in a header: visible ASCII, spaces and tabs (fetch refuses the rest). */
const headerValue = fc
  .string({ unit: 'binary-ascii', maxLength: 60 })
  .filter((s) => /^[\x20-\x7e\t]*$/.test(s));

describe('hostile input', () => {
  it('If-Match of any shape on an update: 412 or 422, never a write', async () => {
    const before = await state();
    await fc.assert(
      fc.asyncProperty(headerValue, async (ifMatch) => {
        const a = await raw('PUT', `/workflows/${workflowId}`, {
          headers: { 'content-type': 'application/json', 'if-match': ifMatch },
          body: JSON.stringify({ name: 'renamed by a stale client' }),
        });
        // A header that happens to name the current version is a fair write; anything else is refused.
        if (a.status !== 200) expectRefused(a, `If-Match ${JSON.stringify(ifMatch)}`);
        return a.status !== 200 || ifMatch.includes(String(before.list[0]?.version));
      }),
      { seed: SEED, numRuns: 100 },
    );
    expect((await state()).events).toBe(before.events);
  });

  it('any Content-Type on a create: 415 or 400/422, never a workflow', async () => {
    const before = await state();
    const body = JSON.stringify({
      name: 'x',
      kind: 'HEARTBEAT',
      payload: { endpoint: 'http://127.0.0.1:9/' },
      interval: 5,
    });
    await fc.assert(
      fc.asyncProperty(
        headerValue.filter((t) => !/^\s*application\/([\w.-]+\+)?json\s*(;|$)/i.test(t)),
        async (type) => {
          expectRefused(
            await raw('POST', '/workflows', { headers: { 'content-type': type }, body }),
            `type ${type}`,
          );
        },
      ),
      { seed: SEED, numRuns: 100 },
    );
    expect((await state()).list).toEqual(before.list);
  });

  it('Last-Event-ID of any shape on the live log: a normal answer, never a 500', async () => {
    await fc.assert(
      fc.asyncProperty(headerValue, async (lastEventId) => {
        const abort = new AbortController();
        const res = await fetch(`${system.baseUrl}/workflows/${workflowId}/jobs/${jobId}/events`, {
          headers: { authorization: `Bearer ${user.token}`, 'last-event-id': lastEventId },
          signal: abort.signal,
        });
        abort.abort();
        expect(
          res.status === 200 || (res.status >= 400 && res.status < 500),
          `${lastEventId} → ${res.status}`,
        ).toBe(true);
      }),
      { seed: SEED, numRuns: 60 },
    );
  });

  it('bodies too large, nested too deep, or not UTF-8: refused, and the process keeps serving', async () => {
    const before = await state();
    const json = { 'content-type': 'application/json' };
    // The answer comes before the body is all sent (the server stops reading at the limit): read it
    // as a client that listens while it writes, which fetch does not.
    expect(await statusOfHugeBody(2 * 1024 * 1024)).toBe(413);
    const deep = `${'['.repeat(200_000)}${']'.repeat(200_000)}`;
    expectRefused(await raw('POST', '/workflows', { headers: json, body: deep }), 'JSON nested 200,000 deep');
    const deepObject = `${'{"a":'.repeat(50_000)}1${'}'.repeat(50_000)}`;
    expectRefused(
      await raw('PUT', `/workflows/${workflowId}`, { headers: json, body: deepObject }),
      'objects 50,000 deep',
    );
    const notUtf8 = new Uint8Array([
      ...new TextEncoder().encode('{"name":"'),
      0xc3,
      0x28,
      0xff,
      0xfe,
      ...new TextEncoder().encode('"}'),
    ]);
    expectRefused(
      await raw('PUT', `/workflows/${workflowId}`, { headers: json, body: notUtf8 }),
      'invalid UTF-8',
    );
    const truncated = '{"name": "x", "kind": "HEARTBEAT", "payload": {"endpoint": "http://127.0.0.1:9/"';
    expectRefused(await raw('POST', '/workflows', { headers: json, body: truncated }), 'truncated JSON');
    expect((await fetch(`${system.baseUrl}/healthz`)).status).toBe(200);
    expect(await state()).toEqual(before);
  });
});
