// The auth routes and /users/me through app.request() on an app assembled here, against a private
// NATS and fresh databases: register, login, Bearer and cookie sessions with CSRF, bad input,
// rate limiting, refresh rotation with reuse detection, logout, and the OpenAPI document.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Kvm } from '@nats-io/kv';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type AuthServices, createAuthServices } from '../../src/auth/auth-services.ts';
import { createRouter } from '../../src/http/app-env.ts';
import { authRoutes } from '../../src/http/auth-routes.ts';
import { onError } from '../../src/http/problem.ts';
import { userMeRoutes } from '../../src/http/user-me-routes.ts';
import { migrateAll } from '../../src/migrate/migrate-all.ts';
import { postgresReadModels } from '../../src/projections/postgres-read-models.ts';
import { ProjectionRunner } from '../../src/projections/projection-runner.ts';
import { openRuntime, type Runtime } from '../../src/runtime/runtime.ts';
import { waitUntil } from '../../src/stack/process-control.ts';
import { createLogger } from '../../src/telemetry/logger.ts';
import { startNatsServer, type TestNatsServer } from '../support/nats-server.ts';
import { createTestDatabases, type TestDatabases } from '../support/test-databases.ts';

let nats: TestNatsServer;
let dbs: TestDatabases;
let runtime: Runtime;
let auth: AuthServices;
let app: ReturnType<typeof createRouter>;
const keyDir = mkdtempSync(join(tmpdir(), 'cv-auth-keys-'));
const log = createLogger('test', 'error');

beforeAll(async () => {
  nats = await startNatsServer();
  dbs = await createTestDatabases({ NATS_URL: nats.url, CV_JWT_KEY_DIR: keyDir });
  runtime = await openRuntime(dbs.config, 'test');
  await migrateAll(dbs.config, runtime);
  // Cheap argon2 parameters: the production ones are covered by the password unit tests.
  auth = await createAuthServices({
    db: runtime.db,
    config: dbs.config,
    nats: runtime.nats,
    argon2: { memory: 256, passes: 1, parallelism: 1 },
  });
  app = createRouter();
  app.route('/', authRoutes({ auth, commands: runtime.commands, db: runtime.db, config: dbs.config }));
  app.route('/', userMeRoutes({ auth, commands: runtime.commands, db: runtime.db }));
  app.onError(onError(log));
});

afterAll(async () => {
  await auth?.close();
  await runtime?.close();
  await dbs?.dispose();
  await nats?.dispose();
  rmSync(keyDir, { recursive: true, force: true });
});

interface Call {
  json?: unknown;
  body?: string;
  headers?: Record<string, string>;
  /** The client's socket address, as @hono/node-server would give it. */
  from?: string;
}

async function call(method: string, path: string, { json, body, headers = {}, from }: Call = {}) {
  const init: RequestInit = { method, headers: { ...headers } };
  if (json !== undefined || body !== undefined) {
    init.body = body ?? JSON.stringify(json);
    (init.headers as Record<string, string>)['content-type'] = 'application/json';
  }
  const res = await app.request(
    path,
    init,
    from === undefined ? undefined : { incoming: { socket: { remoteAddress: from } } },
  );
  const text = await res.text();
  const data = text ? (JSON.parse(text) as Record<string, unknown>) : {};
  return {
    status: res.status,
    data,
    headers: res.headers,
    cookies: parseSetCookies(res.headers.getSetCookie()),
  };
}

type SetCookie = { value: string; attributes: string };

function parseSetCookies(lines: string[]): Record<string, SetCookie> {
  const out: Record<string, SetCookie> = {};
  for (const line of lines) {
    const [pair = '', ...attrs] = line.split(';').map((s) => s.trim());
    const eq = pair.indexOf('=');
    out[pair.slice(0, eq)] = { value: decodeURIComponent(pair.slice(eq + 1)), attributes: attrs.join('; ') };
  }
  return out;
}

const cookieHeader = (cookies: Record<string, SetCookie>, names: string[]) =>
  names.map((n) => `${n}=${cookies[n]?.value}`).join('; ');

let emails = 0;
const freshEmail = () => `user${++emails}-${Date.now()}@example.com`;
const PASSWORD = 'correct horse battery';

async function registerAndLogin(email = freshEmail()) {
  const registered = await call('POST', '/auth/register', { json: { email, password: PASSWORD } });
  expect(registered.status).toBe(201);
  const login = await call('POST', '/auth/login', { json: { email, password: PASSWORD } });
  expect(login.status).toBe(200);
  return { id: registered.data.id as string, email, login };
}

function expectProblem(r: Awaited<ReturnType<typeof call>>, status: number, code: string) {
  expect(r.status).toBe(status);
  expect(r.headers.get('content-type')).toBe('application/problem+json');
  expect(r.data).toMatchObject({ status, code });
}

describe('register, login and /users/me', () => {
  it('registers (email lower-cased), logs in with a token pair and cookies, and reads /users/me with Bearer', async () => {
    const email = `Ada.${Date.now()}@Example.COM`;
    const registered = await call('POST', '/auth/register', { json: { email, password: PASSWORD } });
    expect(registered.status).toBe(201);
    expect(registered.data).toEqual({
      id: expect.stringMatching(/^[0-9a-f-]{36}$/),
      email: email.toLowerCase(),
    });

    const login = await call('POST', '/auth/login', { json: { email, password: PASSWORD } });
    expect(login.status).toBe(200);
    expect(login.data).toEqual({
      access_token: expect.any(String),
      token_type: 'Bearer',
      expires_in: 900,
      refresh_token: expect.stringMatching(/^[A-Za-z0-9_-]{43}$/),
    });
    const { cv_access, cv_refresh, cv_csrf } = login.cookies;
    expect(cv_access?.value).toBe(login.data.access_token);
    expect(cv_access?.attributes).toMatch(/Max-Age=900/);
    expect(cv_access?.attributes).toMatch(/Path=\/(;|$)/);
    expect(cv_access?.attributes).toMatch(/HttpOnly/);
    expect(cv_access?.attributes).toMatch(/SameSite=Strict/);
    expect(cv_refresh?.value).toBe(login.data.refresh_token);
    expect(cv_refresh?.attributes).toMatch(/Path=\/auth/);
    expect(cv_refresh?.attributes).toMatch(/HttpOnly/);
    expect(cv_refresh?.attributes).toMatch(/SameSite=Strict/);
    expect(cv_csrf?.value).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(cv_csrf?.attributes).not.toMatch(/HttpOnly/);
    expect(cv_csrf?.attributes).toMatch(/SameSite=Strict/);

    const me = await call('GET', '/users/me', {
      headers: { Authorization: `Bearer ${login.data.access_token}` },
    });
    expect(me.status).toBe(200);
    expect(me.data).toEqual({
      id: registered.data.id,
      email: email.toLowerCase(),
      notification_preference: 'ALERTS',
      created_at: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
    });
  });

  it('refuses requests without credentials or with a bad token', async () => {
    const none = await call('GET', '/users/me');
    expectProblem(none, 401, 'authentication_required');
    expect(none.headers.get('www-authenticate')).toMatch(/^Bearer/);
    const bad = await call('GET', '/users/me', { headers: { Authorization: 'Bearer not.a.token' } });
    expectProblem(bad, 401, 'invalid_token');
    expect(bad.headers.get('www-authenticate')).toMatch(/error="invalid_token"/);
    expectProblem(
      await call('GET', '/users/me', { headers: { Authorization: 'Basic dXNlcjpwdw==' } }),
      401,
      'invalid_token',
    );
  });

  it('changes the notification preference with Bearer and no CSRF header', async () => {
    const { login } = await registerAndLogin();
    const auth = { Authorization: `Bearer ${login.data.access_token}` };
    const patched = await call('PATCH', '/users/me', {
      json: { notification_preference: 'NONE' },
      headers: auth,
    });
    expect(patched.status).toBe(200);
    expect(patched.data.notification_preference).toBe('NONE');
    expect((await call('GET', '/users/me', { headers: auth })).data.notification_preference).toBe('NONE');
    const invalid = await call('PATCH', '/users/me', {
      json: { notification_preference: 'SOME' },
      headers: auth,
    });
    expectProblem(invalid, 422, 'validation_failed');
    expect(invalid.data.field).toBe('notification_preference');
  });

  it('authenticates with the cv_access cookie; writes need X-CSRF-Token equal to cv_csrf', async () => {
    const { login } = await registerAndLogin();
    const cookie = cookieHeader(login.cookies, ['cv_access', 'cv_csrf']);
    const csrf = login.cookies.cv_csrf!.value;

    expect((await call('GET', '/users/me', { headers: { Cookie: cookie } })).status).toBe(200);
    const body = { notification_preference: 'ALL' };
    expectProblem(
      await call('PATCH', '/users/me', { json: body, headers: { Cookie: cookie } }),
      403,
      'csrf_token_mismatch',
    );
    expectProblem(
      await call('PATCH', '/users/me', {
        json: body,
        headers: { Cookie: cookie, 'X-CSRF-Token': `${csrf}x` },
      }),
      403,
      'csrf_token_mismatch',
    );
    // The header alone is not enough either: it must match the cookie.
    expectProblem(
      await call('PATCH', '/users/me', {
        json: body,
        headers: { Cookie: cookieHeader(login.cookies, ['cv_access']), 'X-CSRF-Token': csrf },
      }),
      403,
      'csrf_token_mismatch',
    );
    const ok = await call('PATCH', '/users/me', {
      json: body,
      headers: { Cookie: cookie, 'X-CSRF-Token': csrf },
    });
    expect(ok.status).toBe(200);
    expect(ok.data.notification_preference).toBe('ALL');
  });

  it('serves /users/me from the read model once the projection has caught up', async () => {
    const projection = new ProjectionRunner({ nats: runtime.nats, db: runtime.db, log }, postgresReadModels);
    await projection.start();
    try {
      const { id, email, login } = await registerAndLogin();
      await waitUntil('user projected', async () =>
        Boolean(await runtime.db.selectFrom('users').select('id').where('id', '=', id).executeTakeFirst()),
      );
      const me = await call('GET', '/users/me', {
        headers: { Authorization: `Bearer ${login.data.access_token}` },
      });
      expect(me.data).toMatchObject({ id, email, notification_preference: 'ALERTS' });
    } finally {
      await projection.stop();
    }
  });
});

describe('bad input and refusals', () => {
  it('answers invalid input with problem+json naming the field', async () => {
    const cases: [unknown, string][] = [
      [{ email: 'not-an-email', password: PASSWORD }, 'email'],
      [{ email: freshEmail(), password: 'short' }, 'password'],
      [{ email: freshEmail(), password: 'x'.repeat(129) }, 'password'],
      [{ password: PASSWORD }, 'email'],
      [{ email: freshEmail() }, 'password'],
    ];
    for (const [json, field] of cases) {
      const r = await call('POST', '/auth/register', { json });
      expectProblem(r, 422, 'validation_failed');
      expect(r.data.field).toBe(field);
    }
    const malformed = await call('POST', '/auth/register', { body: '{"email": ' });
    expect(malformed.status).toBe(400);
    expect(malformed.headers.get('content-type')).toBe('application/problem+json');
    expect(malformed.data.code).toBe('bad_request');
    expectProblem(await call('POST', '/auth/login', { json: {} }), 422, 'validation_failed');
  });

  it('refuses a taken email, whatever its case, with 409 email_taken', async () => {
    const { email } = await registerAndLogin();
    const again = await call('POST', '/auth/register', {
      json: { email: email.toUpperCase(), password: PASSWORD },
    });
    expectProblem(again, 409, 'email_taken');
  });

  it('answers a wrong password and an unknown email the same way', async () => {
    const { email } = await registerAndLogin();
    const wrong = await call('POST', '/auth/login', { json: { email, password: 'wrong password' } });
    const unknown = await call('POST', '/auth/login', { json: { email: freshEmail(), password: PASSWORD } });
    expectProblem(wrong, 401, 'invalid_credentials');
    expectProblem(unknown, 401, 'invalid_credentials');
    expect(unknown.data).toEqual(wrong.data);
  });

  it('throttles an account from one address after 3 failures, with Retry-After; the owner from another address logs in', async () => {
    const { email } = await registerAndLogin();
    const attacker = '203.0.113.50';
    for (let i = 0; i < 3; i++) {
      expectProblem(
        await call('POST', '/auth/login', { json: { email, password: `wrong ${i}` }, from: attacker }),
        401,
        'invalid_credentials',
      );
    }
    const limited = await call('POST', '/auth/login', {
      json: { email, password: PASSWORD },
      from: attacker,
    });
    expectProblem(limited, 429, 'too_many_login_attempts');
    expect(limited.headers.get('retry-after')).toBe('1');
    expect(limited.data.retry_after_seconds).toBe(1);
    const owner = await call('POST', '/auth/login', {
      json: { email, password: PASSWORD },
      from: '198.51.100.50',
    });
    expect(owner.status).toBe(200);
  });
});

describe('refresh and logout', () => {
  it('rotates the pair; a reused refresh token is refused and ends the family, newest token included', async () => {
    const { login } = await registerAndLogin();
    const first = login.data.refresh_token as string;
    const second = await call('POST', '/auth/refresh', { json: { refresh_token: first } });
    expect(second.status).toBe(200);
    expect(second.data.refresh_token).not.toBe(first);
    expect(second.cookies.cv_refresh?.value).toBe(second.data.refresh_token);
    const me = await call('GET', '/users/me', {
      headers: { Authorization: `Bearer ${second.data.access_token}` },
    });
    expect(me.status).toBe(200);

    expectProblem(
      await call('POST', '/auth/refresh', { json: { refresh_token: first } }),
      401,
      'refresh_token_reused',
    );
    expectProblem(
      await call('POST', '/auth/refresh', { json: { refresh_token: second.data.refresh_token } }),
      401,
      'refresh_token_reused',
    );
    expectProblem(
      await call('POST', '/auth/refresh', { json: { refresh_token: 'nonsense' } }),
      401,
      'invalid_refresh_token',
    );
    expectProblem(await call('POST', '/auth/refresh'), 401, 'authentication_required');
  });

  it('refreshes from the cv_refresh cookie, with the CSRF header', async () => {
    const { login } = await registerAndLogin();
    const cookie = cookieHeader(login.cookies, ['cv_refresh', 'cv_csrf']);
    expectProblem(
      await call('POST', '/auth/refresh', { headers: { Cookie: cookie } }),
      403,
      'csrf_token_mismatch',
    );
    const ok = await call('POST', '/auth/refresh', {
      headers: { Cookie: cookie, 'X-CSRF-Token': login.cookies.cv_csrf!.value },
    });
    expect(ok.status).toBe(200);
    expect(ok.cookies.cv_csrf?.value).not.toBe(login.cookies.cv_csrf?.value);
  });

  it('logs out: 204, cookies cleared, the refresh family revoked', async () => {
    const { login } = await registerAndLogin();
    const rotated = await call('POST', '/auth/refresh', {
      json: { refresh_token: login.data.refresh_token },
    });
    const out = await call('POST', '/auth/logout', { json: { refresh_token: rotated.data.refresh_token } });
    expect(out.status).toBe(204);
    for (const name of ['cv_access', 'cv_refresh', 'cv_csrf']) {
      expect(out.cookies[name]?.attributes).toMatch(/Max-Age=0/);
    }
    expect(
      (await call('POST', '/auth/refresh', { json: { refresh_token: rotated.data.refresh_token } })).status,
    ).toBe(401);
    // Logging out again, or with nothing, is not an error.
    expect((await call('POST', '/auth/logout')).status).toBe(204);
  });
});

describe('logout ends the session for real', () => {
  const me = (accessToken: unknown) =>
    call('GET', '/users/me', { headers: { Authorization: `Bearer ${accessToken}` } });

  it('refuses the access token after a logout with the refresh token, and every token of that session', async () => {
    const { login } = await registerAndLogin();
    const rotated = await call('POST', '/auth/refresh', {
      json: { refresh_token: login.data.refresh_token },
    });
    const other = await call('POST', '/auth/login', {
      json: { email: (await me(login.data.access_token)).data.email, password: PASSWORD },
    });
    expect((await me(login.data.access_token)).status).toBe(200);
    expect((await me(rotated.data.access_token)).status).toBe(200);

    expect(
      (await call('POST', '/auth/logout', { json: { refresh_token: rotated.data.refresh_token } })).status,
    ).toBe(204);
    expectProblem(await me(login.data.access_token), 401, 'invalid_token');
    expectProblem(await me(rotated.data.access_token), 401, 'invalid_token');
    // Another login of the same user is another session: it goes on.
    expect((await me(other.data.access_token)).status).toBe(200);
  });

  it('ends the session of a Bearer token sent alone, its refresh token included', async () => {
    const { login } = await registerAndLogin();
    const out = await call('POST', '/auth/logout', {
      headers: { Authorization: `Bearer ${login.data.access_token}` },
    });
    expect(out.status).toBe(204);
    expectProblem(await me(login.data.access_token), 401, 'invalid_token');
    expectProblem(
      await call('POST', '/auth/refresh', { json: { refresh_token: login.data.refresh_token } }),
      401,
      'refresh_token_reused',
    );
  });

  it('ends the session of the cv_access cookie only with the CSRF header', async () => {
    const { login } = await registerAndLogin();
    const access = cookieHeader(login.cookies, ['cv_access', 'cv_csrf']);
    expect((await call('POST', '/auth/logout', { headers: { Cookie: access } })).status).toBe(204);
    expect((await me(login.data.access_token)).status).toBe(200);
    const out = await call('POST', '/auth/logout', {
      headers: { Cookie: access, 'X-CSRF-Token': login.cookies.cv_csrf!.value },
    });
    expect(out.status).toBe(204);
    expectProblem(await me(login.data.access_token), 401, 'invalid_token');
  });

  it('ends the session when a used refresh token comes back (a stolen copy)', async () => {
    const { login } = await registerAndLogin();
    const rotated = await call('POST', '/auth/refresh', {
      json: { refresh_token: login.data.refresh_token },
    });
    expect((await me(rotated.data.access_token)).status).toBe(200);
    expectProblem(
      await call('POST', '/auth/refresh', { json: { refresh_token: login.data.refresh_token } }),
      401,
      'refresh_token_reused',
    );
    expectProblem(await me(rotated.data.access_token), 401, 'invalid_token');
  });

  it('stores the ended session in the NATS KV bucket, for the other API processes', async () => {
    const { login } = await registerAndLogin();
    const before = auth.sessions.size;
    await call('POST', '/auth/logout', { json: { refresh_token: login.data.refresh_token } });
    expect(auth.sessions.size).toBe(before + 1);
    const kv = await new Kvm(runtime.nats.nc).open('CV_REVOKED_SESSIONS');
    const status = await kv.status();
    expect(status.ttl).toBeGreaterThanOrEqual(dbs.config.CV_ACCESS_TOKEN_TTL_SECONDS * 1000);
    expect(status.values).toBeGreaterThanOrEqual(1);
  });
});

describe('sign-ups', () => {
  it('are limited per address: past the limit of the hour a 429 with Retry-After, another address unhurt', async () => {
    const limited = await createAuthServices({
      db: runtime.db,
      config: { ...dbs.config, CV_SIGNUP_LIMIT_PER_HOUR: 2 },
      nats: runtime.nats,
      argon2: { memory: 256, passes: 1, parallelism: 1 },
    });
    try {
      const small = createRouter();
      small.route(
        '/',
        authRoutes({ auth: limited, commands: runtime.commands, db: runtime.db, config: dbs.config }),
      );
      small.onError(onError(log));
      const register = (email: string, from: string) =>
        small.request(
          '/auth/register',
          {
            method: 'POST',
            headers: { 'content-type': 'application/json' },
            body: JSON.stringify({ email, password: 'correct horse battery staple' }),
          },
          { incoming: { socket: { remoteAddress: from } } },
        );
      expect((await register('one@limit.example', '203.0.113.5')).status).toBe(201);
      // A refused sign-up (the email is taken) counts as well.
      expect((await register('one@limit.example', '203.0.113.5')).status).toBe(409);
      const third = await register('three@limit.example', '203.0.113.5');
      expect(third.status).toBe(429);
      expect(((await third.json()) as { code: string }).code).toBe('too_many_signups');
      expect(Number(third.headers.get('retry-after'))).toBeGreaterThan(3000);
      expect((await register('four@limit.example', '203.0.113.6')).status).toBe(201);
    } finally {
      await limited.close();
    }
  });
});

describe('OpenAPI document', () => {
  it('lists every route with its named schemas and the security schemes', () => {
    const doc = app.getOpenAPIDocument({ openapi: '3.0.0', info: { title: 'test', version: '0' } });
    expect(Object.keys(doc.paths ?? {}).sort()).toEqual([
      '/auth/login',
      '/auth/logout',
      '/auth/refresh',
      '/auth/register',
      '/users/me',
    ]);
    expect(Object.keys(doc.components?.schemas ?? {})).toEqual(
      expect.arrayContaining([
        'RegisterRequest',
        'LoginRequest',
        'TokenPair',
        'User',
        'UpdateUser',
        'Problem',
      ]),
    );
    expect(Object.keys(doc.components?.securitySchemes ?? {}).sort()).toEqual(['bearerAuth', 'cookieAuth']);
  });
});
