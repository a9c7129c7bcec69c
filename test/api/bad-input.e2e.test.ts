// Bad input for each body and query field gets a 4xx problem+json with a stable code and the field
// that is wrong; nothing is written, and the process keeps serving.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApiClient, startSystem, type TestSystem } from '../support/system.ts';

let system: TestSystem;
let alice: ApiClient;
let workflowId: string;
let jobId: string;

const valid = {
  name: 'ok',
  kind: 'HEARTBEAT',
  payload: { endpoint: 'https://example.com/health' },
  interval: 5,
};

beforeAll(async () => {
  system = await startSystem();
  alice = new ApiClient(system.baseUrl);
  await alice.signUp('bad.input@example.com');
  workflowId = (await alice.post<{ id: string }>('/workflows', valid)).body.id;
  jobId = (await alice.post<{ job_id: string }>(`/workflows/${workflowId}/jobs/schedule`)).body.job_id;
});

afterAll(async () => {
  await system?.dispose();
});

type Problem = { status: number; code: string; field?: string; detail: string };

function expectProblem(
  res: { status: number; headers: Headers; body: unknown },
  status: number,
  code: string,
  field?: string,
) {
  expect(res.headers.get('content-type')).toContain('application/problem+json');
  const p = res.body as Problem;
  expect({ status: res.status, code: p.code, ...(field === undefined ? {} : { field: p.field }) }).toEqual({
    status,
    code,
    ...(field === undefined ? {} : { field }),
  });
  expect(p.detail.length).toBeGreaterThan(5);
}

describe('bad input to POST /workflows', () => {
  const cases: [string, Record<string, unknown>, string][] = [
    ['empty name', { ...valid, name: '' }, 'name'],
    ['name too long', { ...valid, name: 'x'.repeat(256) }, 'name'],
    ['unknown kind', { ...valid, kind: 'CRON' }, 'kind'],
    ['missing payload', { ...valid, payload: undefined }, 'payload'],
    ['payload string that is not JSON', { ...valid, payload: '{not json' }, 'payload'],
    ['HEARTBEAT without endpoint', { ...valid, payload: {} }, 'payload.endpoint'],
    ['endpoint not http', { ...valid, payload: { endpoint: 'ftp://x/y' } }, 'payload.endpoint'],
    [
      'status code out of range',
      { ...valid, payload: { endpoint: 'https://x.y/', expected_status_code: 99 } },
      'payload.expected_status_code',
    ],
    [
      'timeout not a duration',
      { ...valid, payload: { endpoint: 'https://x.y/', timeout: 'ten' } },
      'payload.timeout',
    ],
    [
      'timeout above 5 minutes',
      { ...valid, payload: { endpoint: 'https://x.y/', timeout: '6m' } },
      'payload.timeout',
    ],
    [
      'unknown payload field',
      { ...valid, payload: { endpoint: 'https://x.y/', retries: 3 } },
      'payload.retries',
    ],
    ['CONTAINER without image', { ...valid, kind: 'CONTAINER', payload: { cmd: ['x'] } }, 'payload.image'],
    [
      'bad env name',
      { ...valid, kind: 'CONTAINER', payload: { image: 'a', env: { 'A-B': '1' } } },
      'payload.env.A-B',
    ],
    [
      'unknown network',
      { ...valid, kind: 'CONTAINER', payload: { image: 'a', network: 'host' } },
      'payload.network',
    ],
    ['interval 0', { ...valid, interval: 0 }, 'interval'],
    ['interval above a week', { ...valid, interval: 10_081 }, 'interval'],
    ['interval and schedule', { ...valid, schedule: { cron: '* * * * *', timezone: 'UTC' } }, 'interval'],
    ['neither interval nor schedule', { ...valid, interval: undefined }, 'interval'],
    [
      'invalid cron',
      { ...valid, interval: undefined, schedule: { cron: '61 * * * *', timezone: 'UTC' } },
      'schedule.cron',
    ],
    [
      'unknown zone',
      { ...valid, interval: undefined, schedule: { cron: '* * * * *', timezone: 'Mars/Base' } },
      'schedule.timezone',
    ],
    [
      'failures below 3',
      { ...valid, max_consecutive_job_failures_allowed: 2 },
      'max_consecutive_job_failures_allowed',
    ],
    [
      'failures above 100',
      { ...valid, max_consecutive_job_failures_allowed: 101 },
      'max_consecutive_job_failures_allowed',
    ],
    ['log_retention not a boolean', { ...valid, log_retention: 'no' }, 'log_retention'],
    ['unknown field', { ...valid, owner: 'someone' }, 'owner'],
  ];
  for (const [what, body, field] of cases) {
    it(`refuses ${what}`, async () => {
      expectProblem(await alice.post('/workflows', body), 422, 'validation_failed', field);
    });
  }

  it('refuses malformed JSON with 400 and writes nothing', async () => {
    expectProblem(await alice.request('POST', '/workflows', { rawBody: '{"name": ' }), 400, 'bad_request');
    const list = await alice.get<{ items: unknown[] }>('/workflows');
    expect(list.body.items).toHaveLength(1);
  });
});

describe('bad input elsewhere', () => {
  it('refuses bad query fields', async () => {
    expectProblem(await alice.get('/workflows?limit=0'), 422, 'validation_failed', 'limit');
    expectProblem(await alice.get('/workflows?limit=101'), 422, 'validation_failed', 'limit');
    expectProblem(await alice.get('/workflows?kind=X'), 422, 'validation_failed', 'kind');
    expectProblem(await alice.get('/workflows?status=DONE'), 422, 'validation_failed', 'status');
    expectProblem(await alice.get('/workflows?build_status=X'), 422, 'validation_failed', 'build_status');
    expectProblem(await alice.get('/workflows?interval_min=abc'), 422, 'validation_failed', 'interval_min');
    expectProblem(await alice.get('/workflows?cursor=garbage'), 422, 'invalid_cursor', 'cursor');
    expectProblem(
      await alice.get(`/workflows/${workflowId}/jobs?status=X`),
      422,
      'validation_failed',
      'status',
    );
    expectProblem(
      await alice.get(`/workflows/${workflowId}/jobs?cursor=e30`),
      422,
      'invalid_cursor',
      'cursor',
    );
    expectProblem(
      await alice.get(`/workflows/${workflowId}/history?limit=0`),
      422,
      'validation_failed',
      'limit',
    );
    expectProblem(await alice.get('/notifications?limit=5000'), 422, 'validation_failed', 'limit');
  });

  it('refuses bad ids, updates and read marks', async () => {
    expectProblem(await alice.get('/workflows/not-a-uuid'), 422, 'validation_failed', 'id');
    expectProblem(
      await alice.request('PUT', `/workflows/${workflowId}`, { body: {} }),
      422,
      'validation_failed',
    );
    expectProblem(
      await alice.request('PUT', `/workflows/${workflowId}`, { body: { payload: { endpoint: 1 } } }),
      422,
      'validation_failed',
      'payload.endpoint',
    );
    expectProblem(
      await alice.request('PUT', `/workflows/${workflowId}`, { body: { log_retention: 'no' } }),
      422,
      'validation_failed',
      'log_retention',
    );
    expectProblem(
      await alice.request('PUT', `/workflows/${workflowId}`, { body: { kind: 'CONTAINER' } }),
      422,
      'validation_failed',
    );
    expectProblem(
      await alice.request('PUT', `/workflows/${workflowId}`, {
        body: { name: 'x' },
        headers: { 'if-match': 'W/"abc"' },
      }),
      412,
      'version_mismatch',
    );
    expectProblem(await alice.post('/notifications/read', { ids: [] }), 422, 'validation_failed', 'ids');
    expectProblem(
      await alice.request('PATCH', '/users/me', { body: { notification_preference: 'SOME' } }),
      422,
      'validation_failed',
      'notification_preference',
    );
    expectProblem(await alice.get('/no/such/route'), 404, 'route_not_found');
    // Still serving, and the workflow is as it was.
    const wf = await alice.get<{ name: string; log_retention: boolean }>(`/workflows/${workflowId}`);
    expect(wf.body).toMatchObject({ name: 'ok', log_retention: true });
  });
});

/** A cursor as this API writes them: base64url of the JSON sort key. */
const cursorOf = (key: unknown[]) => Buffer.from(JSON.stringify(key)).toString('base64url');
const FAR_PAST = '-200000-01-01T00:00:00.000Z';
const NUL = '\u0000';
const nulQuery = encodeURIComponent(`a${NUL}b`);

describe('inputs that would reach a store as a 500 are a 422 at the parsing edge', () => {
  const id = '00000000-0000-4000-8000-000000000000';
  /** Every paged route, with cursors of its own shape: one with an impossible instant, one with a NUL. */
  const paged = () => [
    {
      path: '/workflows',
      impossible: cursorOf([FAR_PAST, id]),
      nul: cursorOf(['2026-11-27T10:00:00.000Z', `x${NUL}`]),
    },
    {
      path: `/workflows/${workflowId}/jobs`,
      impossible: cursorOf([FAR_PAST, id]),
      nul: cursorOf(['2026-11-27T10:00:00.000Z', `x${NUL}`]),
    },
    {
      path: '/notifications',
      impossible: cursorOf([false, FAR_PAST, id]),
      nul: cursorOf([false, '2026-11-27T10:00:00.000Z', `x${NUL}`]),
    },
    { path: `/workflows/${workflowId}/ticks`, impossible: cursorOf([FAR_PAST]), nul: cursorOf([`${NUL}`]) },
    {
      path: `/workflows/${workflowId}/jobs/${jobId}/logs`,
      impossible: cursorOf([1e300, 1]),
      nul: cursorOf([`1${NUL}`, 1]),
    },
    {
      path: `/workflows/${workflowId}/jobs/${jobId}/logs/search?q=line`,
      impossible: cursorOf([1, -1]),
      nul: cursorOf([1, `1${NUL}`]),
    },
  ];
  const withParam = (path: string, param: string) => `${path}${path.includes('?') ? '&' : '?'}${param}`;

  it('refuses a cursor holding an impossible instant or number on every paged route', async () => {
    for (const { path, impossible } of paged()) {
      const res = await alice.get(withParam(path, `cursor=${impossible}`));
      expectProblem(res, 422, 'invalid_cursor', 'cursor');
    }
  });

  it('refuses a cursor with a NUL in a string part on every paged route', async () => {
    for (const { path, nul } of paged()) {
      expectProblem(await alice.get(withParam(path, `cursor=${nul}`)), 422, 'invalid_cursor', 'cursor');
    }
  });

  it('refuses a NUL in any query parameter bound for a store, the cursor itself included', async () => {
    for (const { path } of paged()) {
      expectProblem(await alice.get(withParam(path, `cursor=${nulQuery}`)), 422, 'nul_character', 'cursor');
    }
    expectProblem(await alice.get(`/workflows?query=${nulQuery}`), 422, 'nul_character', 'query');
    expectProblem(
      await alice.get(`/workflows/${workflowId}/jobs/${jobId}/logs/search?q=${nulQuery}`),
      422,
      'nul_character',
      'q',
    );
    // History pages by a number: a NUL or an impossible one is refused or reads nothing, never a 500.
    for (const path of [
      `/workflows/${workflowId}/history`,
      `/workflows/${workflowId}/jobs/${jobId}/history`,
    ]) {
      expectProblem(await alice.get(`${path}?after=${nulQuery}`), 422, 'validation_failed', 'after');
      expectProblem(await alice.get(`${path}?after=-200000`), 422, 'validation_failed', 'after');
      expectProblem(await alice.get(`${path}?after=1e300`), 422, 'validation_failed', 'after');
      const far = await alice.get<{ items: unknown[] }>(`${path}?after=${Number.MAX_SAFE_INTEGER}`);
      expect(far.status).toBe(200);
      expect(far.body.items).toEqual([]);
    }
  });

  it('refuses a NUL anywhere in a body, so that no event carries one to a projection', async () => {
    expectProblem(
      await alice.post('/workflows', {
        ...valid,
        kind: 'CONTAINER',
        payload: { image: 'alpine', cmd: ['echo', `a${NUL}b`] },
      }),
      422,
      'nul_character',
      'payload.cmd.1',
    );
    // A payload sent as a JSON string is checked as parsed.
    expectProblem(
      await alice.post('/workflows', {
        ...valid,
        payload: JSON.stringify({ endpoint: 'https://x.y/', headers: { 'X-A': `v${NUL}` } }),
      }),
      422,
      'nul_character',
      'payload.headers.X-A',
    );
    expectProblem(
      await alice.post('/notifications/read', { ids: [`n${NUL}`] }),
      422,
      'nul_character',
      'ids.0',
    );
    expectProblem(
      await alice.request('PUT', `/workflows/${workflowId}`, {
        body: { payload: { endpoint: 'https://x.y/', headers: { [`X-A${NUL}`]: 'v' } } },
      }),
      422,
      'nul_character',
      'payload.headers.X-A\\0',
    );
  });

  it('still reads at the edges of the range a cursor may hold', async () => {
    for (const at of ['+275760-09-13T00:00:00.000Z', '-004712-01-01T00:00:00.000Z']) {
      const res = await alice.get<{ items: { id: string }[] }>(`/workflows?cursor=${cursorOf([at, id])}`);
      expect(res.status, at).toBe(200);
    }
    const newest = await alice.get<{ items: { id: string }[] }>(
      `/workflows?cursor=${cursorOf(['+275760-09-13T00:00:00.000Z', id])}`,
    );
    expect(newest.body.items.map((w) => w.id)).toEqual([workflowId]);
  });
});

describe('a known path asked with a method it does not have', () => {
  it('answers 405 with Allow built from the routes, and 404 only for a path the API does not have', async () => {
    const cases: [string, string, string][] = [
      ['DELETE', '/workflows', 'GET, HEAD, POST'],
      ['PATCH', `/workflows/${workflowId}`, 'DELETE, GET, HEAD, PUT'],
      ['GET', `/workflows/${workflowId}/pause`, 'POST'],
      ['PUT', `/workflows/${workflowId}/jobs/${jobId}`, 'GET, HEAD'],
      ['DELETE', '/notifications/read', 'POST'],
      ['GET', '/auth/login', 'POST'],
      ['POST', '/users/me', 'GET, HEAD, PATCH'],
      ['POST', '/openapi.json', 'GET, HEAD'],
    ];
    for (const [method, path, allow] of cases) {
      const res = await alice.request(method, path);
      expectProblem(res, 405, 'method_not_allowed');
      expect(res.headers.get('allow'), `${method} ${path}`).toBe(allow);
    }
    const unknown = await alice.request('DELETE', '/no/such/route');
    expectProblem(unknown, 404, 'route_not_found');
    expect(unknown.headers.get('allow')).toBeNull();
    // Authentication still comes first on the API's prefixes: nothing is said to a stranger.
    const anonymous = await new ApiClient(system.baseUrl).request('DELETE', '/workflows');
    expectProblem(anonymous, 401, 'authentication_required');
  });
});
