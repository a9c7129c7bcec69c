// Bad input for each body and query field gets a 4xx problem+json with a stable code and the field
// that is wrong; nothing is written, and the process keeps serving.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApiClient, startSystem, type TestSystem } from '../support/system.ts';

let system: TestSystem;
let alice: ApiClient;
let workflowId: string;

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
