// Every read and command is scoped to its owner: user B gets 404 (never 403) for all of user A's
// workflows and jobs, and sees none of them in lists. Forged and expired credentials are refused.
import { generateKeyPair, SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitUntil } from '../../src/stack/process-control.ts';
import { ApiClient, startSystem, type TestSystem } from '../support/system.ts';

let system: TestSystem;
let alice: ApiClient;
let bob: ApiClient;
let workflowId: string;
let jobId: string;

beforeAll(async () => {
  system = await startSystem();
  alice = new ApiClient(system.baseUrl);
  bob = new ApiClient(system.baseUrl);
  await alice.signUp('alice.owner@example.com');
  await bob.signUp('bob.intruder@example.com');
  workflowId = (
    await alice.post<{ id: string }>('/workflows', {
      name: 'private',
      kind: 'HEARTBEAT',
      payload: { endpoint: 'http://127.0.0.1:9/' },
      interval: 5,
    })
  ).body.id;
  jobId = (await alice.post<{ job_id: string }>(`/workflows/${workflowId}/jobs/schedule`)).body.job_id;
  await waitUntil(
    'job visible',
    async () => (await alice.get(`/workflows/${workflowId}/jobs/${jobId}`)).status === 200,
    20_000,
  );
});

afterAll(async () => {
  await system?.dispose();
});

describe('ownership', () => {
  it("gives B a 404 for every route on A's workflow and job", async () => {
    const w = `/workflows/${workflowId}`;
    const j = `${w}/jobs/${jobId}`;
    const attempts: [string, string, unknown?][] = [
      ['GET', w],
      ['PUT', w, { name: 'mine now' }],
      ['POST', `${w}/pause`],
      ['POST', `${w}/resume`],
      ['POST', `${w}/terminate`],
      ['DELETE', w],
      ['GET', `${w}/history`],
      ['GET', `${w}/jobs`],
      ['POST', `${w}/jobs/schedule`],
      ['GET', j],
      ['POST', `${j}/cancel`],
      ['GET', `${j}/history`],
      ['GET', `/analytics/workflows/${workflowId}`],
    ];
    for (const [method, path, body] of attempts) {
      const res = await bob.request(method, path, body === undefined ? {} : { body });
      expect([method, path, res.status]).toEqual([method, path, 404]);
      expect((res.body as { code: string }).code).toMatch(/not_found$/);
    }
    // Nothing B did reached A's workflow.
    const mine = await alice.get<{ status: string; name: string }>(w);
    expect(mine.body).toMatchObject({ status: 'ACTIVE', name: 'private' });
    expect((await alice.get<{ status: string }>(j)).body.status).not.toBe('CANCELED');
  });

  it("shows B none of A's workflows, notifications or totals", async () => {
    expect((await bob.get<{ items: unknown[] }>('/workflows')).body.items).toEqual([]);
    expect((await bob.get<{ items: unknown[] }>('/notifications')).body.items).toEqual([]);
    expect((await bob.get<{ workflows: number; jobs_total: number }>('/analytics')).body).toMatchObject({
      workflows: 0,
      jobs_total: 0,
    });
  });
});

describe('credentials', () => {
  const forge = async (
    mutate: (claims: Record<string, unknown>) => void,
    header?: Record<string, unknown>,
  ) => {
    const [h, p, s] = alice.token!.split('.') as [string, string, string];
    const claims = JSON.parse(Buffer.from(p, 'base64url').toString());
    mutate(claims);
    const hdr = header ?? JSON.parse(Buffer.from(h, 'base64url').toString());
    return `${Buffer.from(JSON.stringify(hdr)).toString('base64url')}.${Buffer.from(JSON.stringify(claims)).toString('base64url')}.${header?.alg === 'none' ? '' : s}`;
  };
  const status = async (token: string) =>
    (await alice.get('/workflows', { authorization: `Bearer ${token}` })).status;

  it('refuses alg none, a changed payload, a wrong key, an expired token, and no token', async () => {
    const bobId = JSON.parse(Buffer.from(bob.token!.split('.')[1]!, 'base64url').toString()).sub as string;
    expect(await status(await forge(() => {}, { alg: 'none', typ: 'JWT' }))).toBe(401);
    expect(await status(await forge((c) => (c.sub = bobId)))).toBe(401);
    const { privateKey } = await generateKeyPair('EdDSA', { crv: 'Ed25519' });
    const claims = JSON.parse(Buffer.from(alice.token!.split('.')[1]!, 'base64url').toString());
    const otherKey = await new SignJWT(claims).setProtectedHeader({ alg: 'EdDSA' }).sign(privateKey);
    expect(await status(otherKey)).toBe(401);
    const expired = await forge((c) => (c.exp = Math.floor(Date.now() / 1000) - 60));
    expect(await status(expired)).toBe(401);
    const none = await alice.request('GET', '/workflows', { headers: { authorization: '' } });
    expect(none.status).toBe(401);
    expect(await status(alice.token!)).toBe(200);
  });

  it('refuses a revoked refresh token after logout', async () => {
    const carol = new ApiClient(system.baseUrl);
    await carol.post('/auth/register', {
      email: 'carol@example.com',
      password: 'correct horse battery staple',
    });
    const login = await carol.post<{ refresh_token: string }>('/auth/login', {
      email: 'carol@example.com',
      password: 'correct horse battery staple',
    });
    const refresh = login.body.refresh_token;
    const rotated = await carol.post<{ refresh_token: string }>('/auth/refresh', { refresh_token: refresh });
    expect(rotated.status).toBe(200);
    expect((await carol.post('/auth/logout', { refresh_token: rotated.body.refresh_token })).status).toBe(
      204,
    );
    expect((await carol.post('/auth/refresh', { refresh_token: rotated.body.refresh_token })).status).toBe(
      401,
    );
    // The first token was already used: presenting it again is refused too.
    expect((await carol.post('/auth/refresh', { refresh_token: refresh })).status).toBe(401);
  });
});
