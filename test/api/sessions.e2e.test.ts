// Sessions over real sockets, the API running as its own processes: a logout ends the session, so
// its access token is refused afterwards by the API that logged out, by a second API process that had
// the token cached, and by one started later; password guessing from one address is throttled there
// (429 with Retry-After) while the owner, from another address, logs in; one address cannot spray
// many accounts. Clients bind distinct loopback addresses (127.0.0.x), so the API sees each as the
// socket's own remote address.
import { generateKeyPairSync } from 'node:crypto';
import { request } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitUntil } from '../../src/stack/process-control.ts';
import { freePort } from '../support/nats-server.ts';
import { type RoleProcess, startRole } from '../support/role-process.ts';
import { ApiClient, startSystem, type TestSystem } from '../support/system.ts';

let system: TestSystem;
const PASSWORD = 'correct horse battery staple';
/** One signing key for every API process of the test (they would share CV_JWT_KEY_DIR otherwise). */
const CV_JWT_PRIVATE_KEY = generateKeyPairSync('ed25519')
  .privateKey.export({ type: 'pkcs8', format: 'pem' })
  .toString();
const others: RoleProcess[] = [];

beforeAll(async () => {
  system = await startSystem({ CV_JWT_PRIVATE_KEY }, 'api,projector');
});

afterAll(async () => {
  for (const p of others) await p.kill('SIGTERM');
  await system?.dispose();
});

/** Another API process on the same NATS and databases; its base URL once it answers. */
async function anotherApi(): Promise<string> {
  const port = await freePort();
  const api = startRole('api', system.dbs.config, {
    CV_JWT_PRIVATE_KEY,
    CV_HTTP_PORT: String(port),
    CV_LOG_LEVEL: 'warn',
  });
  others.push(api);
  const baseUrl = `http://127.0.0.1:${port}`;
  try {
    await waitUntil('second api up', async () => (await fetch(`${baseUrl}/healthz`)).ok, 60_000);
  } catch (err) {
    throw new Error(`${String(err)}\n${api.output()}`);
  }
  return baseUrl;
}

describe('logout', () => {
  it('ends the session: its access token is refused by every API process, cached or not', async () => {
    const second = await anotherApi();
    const alice = new ApiClient(system.baseUrl);
    await alice.post('/auth/register', { email: 'leaving@example.com', password: PASSWORD });
    const login = await alice.post<{ access_token: string; refresh_token: string }>('/auth/login', {
      email: 'leaving@example.com',
      password: PASSWORD,
    });
    const bearer = { authorization: `Bearer ${login.body.access_token}` };
    const me = (baseUrl: string) => fetch(`${baseUrl}/users/me`, { headers: bearer });
    // Both processes have verified (and cached) the token.
    expect((await me(system.baseUrl)).status).toBe(200);
    expect((await me(second)).status).toBe(200);

    const out = await alice.post('/auth/logout', { refresh_token: login.body.refresh_token });
    expect(out.status).toBe(204);
    const here = await me(system.baseUrl);
    expect(here.status).toBe(401);
    expect(((await here.json()) as { code: string }).code).toBe('invalid_token');
    // The other process learns it from the bucket's watch: within moments, not at the token's expiry.
    const ended = Date.now();
    await waitUntil('refused by the second api', async () => (await me(second)).status === 401, 2_000);
    expect(Date.now() - ended).toBeLessThan(2_000);
    expect((await me(second)).status).toBe(401);
    // A process started after the logout loads the ended sessions before it serves.
    const third = await anotherApi();
    expect((await me(third)).status).toBe(401);
    // The refresh token of the session is gone too.
    expect((await alice.post('/auth/refresh', { refresh_token: login.body.refresh_token })).status).toBe(401);
  });

  it('still reaches the other processes after NATS restarts (their watch resumes)', async () => {
    const second = await anotherApi();
    await system.nats.stop();
    await system.nats.start();
    const bob = new ApiClient(system.baseUrl);
    const email = 'after.restart@example.com';
    // The first requests after the restart may meet the reconnect: retried until the API is back.
    await waitUntil('register after the restart', async () => {
      const res = await bob.post('/auth/register', { email, password: PASSWORD });
      return res.status === 201 || res.status === 409;
    });
    const login = await bob.post<{ access_token: string; refresh_token: string }>('/auth/login', {
      email,
      password: PASSWORD,
    });
    expect(login.status).toBe(200);
    const me = (baseUrl: string) =>
      fetch(`${baseUrl}/users/me`, { headers: { authorization: `Bearer ${login.body.access_token}` } });
    expect((await me(second)).status).toBe(200);
    expect((await bob.post('/auth/logout', { refresh_token: login.body.refresh_token })).status).toBe(204);
    await waitUntil('refused by the second api', async () => (await me(second)).status === 401, 5_000);
  });
});

interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Record<string, unknown>;
}

/** One JSON request from the given local address. */
function from(
  address: string,
  method: string,
  path: string,
  body?: unknown,
  headers: Record<string, string> = {},
) {
  const url = new URL(path, system.baseUrl);
  const payload = body === undefined ? undefined : JSON.stringify(body);
  return new Promise<Answer>((resolve, reject) => {
    const req = request(
      {
        host: url.hostname,
        port: url.port,
        path: url.pathname + url.search,
        method,
        localAddress: address,
        headers: { ...headers, ...(payload === undefined ? {} : { 'content-type': 'application/json' }) },
      },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (text += chunk));
        res.on('end', () =>
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body: text ? JSON.parse(text) : {} }),
        );
      },
    );
    req.on('error', reject);
    req.end(payload);
  });
}

const login = (address: string, email: string, password: string) =>
  from(address, 'POST', '/auth/login', { email, password });

async function register(email: string): Promise<void> {
  const res = await new ApiClient(system.baseUrl).post('/auth/register', { email, password: PASSWORD });
  expect(res.status).toBe(201);
}

describe('login throttling', () => {
  it('twelve wrong passwords from one address leave the owner logging in from another', async () => {
    const email = 'victim@example.com';
    await register(email);
    const attacker = '127.0.0.2';
    const statuses: number[] = [];
    for (let i = 0; i < 12; i++) {
      const res = await login(attacker, email, `wrong password ${i}`);
      statuses.push(res.status);
      if (res.status === 429) {
        expect(res.body.code).toBe('too_many_login_attempts');
        expect(Number(res.headers['retry-after'])).toBeGreaterThanOrEqual(1);
      }
    }
    // Three free failures, then each attempt waits a growing delay: the rest are refused unchecked.
    expect(statuses).toEqual([401, 401, 401, ...Array(9).fill(429)]);

    // The attacker's address is throttled on this account, even with the right password (the
    // delay after the third failure is 1 s, and the nine refusals take milliseconds).
    const attackerRight = await login(attacker, email, PASSWORD);
    expect(attackerRight.status).toBe(429);
    expect(attackerRight.headers['content-type']).toBe('application/problem+json');
    const retryAfter = Number(attackerRight.headers['retry-after']);
    expect(retryAfter).toBe(1);
    expect(attackerRight.body.retry_after_seconds).toBe(retryAfter);
    // The owner, from their own address, is not slowed at all.
    const owner = await login('127.0.0.3', email, PASSWORD);
    expect(owner.status).toBe(200);
    expect(owner.body.access_token).toEqual(expect.any(String));

    // Once the delay has passed, the attempt is checked again.
    await new Promise((r) => setTimeout(r, retryAfter * 1000));
    expect((await login(attacker, email, PASSWORD)).status).toBe(200);
  });

  it('limits one address to 20 failures across accounts, without touching those accounts elsewhere', async () => {
    const email = 'sprayed@example.com';
    await register(email);
    const sprayer = '127.0.0.4';
    for (let i = 0; i < 20; i++) {
      expect((await login(sprayer, `nobody${i}@example.com`, 'guess')).status).toBe(401);
    }
    const limited = await login(sprayer, email, PASSWORD);
    expect(limited.status).toBe(429);
    expect(limited.body.code).toBe('too_many_login_attempts');
    const retryAfter = Number(limited.headers['retry-after']);
    expect(retryAfter).toBeGreaterThan(800);
    expect(retryAfter).toBeLessThanOrEqual(900);
    expect((await login('127.0.0.5', email, PASSWORD)).status).toBe(200);
  });
});
