// A HEARTBEAT endpoint the executors would refuse is refused when the workflow is saved: a clear
// 422 endpoint_not_allowed naming payload.endpoint, on create and on update, with the default policy
// (no CV_HEARTBEAT_ALLOWED_NETWORKS). A name that cannot be resolved now is accepted: the executor
// checks it again on every connection.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApiClient, startSystem, type TestSystem } from '../support/system.ts';

let system: TestSystem;
let user: ApiClient;

beforeAll(async () => {
  system = await startSystem({ CV_HEARTBEAT_ALLOWED_NETWORKS: '' }, 'api,projector');
  user = new ApiClient(system.baseUrl);
  await user.signUp('ssrf@example.com');
});
afterAll(async () => {
  await system?.dispose();
});

const heartbeat = (endpoint: string) => ({
  name: 'probe',
  kind: 'HEARTBEAT',
  payload: { endpoint },
  interval: 5,
});

describe('HEARTBEAT endpoints the default policy refuses', () => {
  it.each([
    'http://127.0.0.1:8080/health',
    'http://localhost:9/',
    'http://169.254.169.254/latest/meta-data/',
    'http://[::1]/',
    'http://10.0.0.5/',
    'http://192.168.1.1/admin',
  ])('refuses %s on create', async (endpoint) => {
    const res = await user.post<{ code: string; field: string }>('/workflows', heartbeat(endpoint));
    expect(res.status).toBe(422);
    expect(res.body).toMatchObject({ code: 'endpoint_not_allowed', field: 'payload.endpoint' });
  });

  it('accepts a public name, refuses an update to an internal one, and leaves the workflow as it was', async () => {
    const created = await user.post<{ id: string }>(
      '/workflows',
      heartbeat('https://status.example.invalid/ping'),
    );
    expect(created.status).toBe(201);
    const id = created.body.id;
    const update = await user.request<{ code: string }>('PUT', `/workflows/${id}`, {
      body: { payload: { endpoint: 'http://169.254.169.254/' } },
    });
    expect([update.status, update.body.code]).toEqual([422, 'endpoint_not_allowed']);
    const wf = await user.get<{ payload: { endpoint: string } }>(`/workflows/${id}`);
    expect(wf.body.payload.endpoint).toBe('https://status.example.invalid/ping');
  });

  it('does not look at CONTAINER workflows (they have no endpoint)', async () => {
    const res = await user.post('/workflows', {
      name: 'job',
      kind: 'CONTAINER',
      payload: { image: 'chronoverse/busybox:local', env: { TARGET: 'http://127.0.0.1/' } },
      interval: 5,
    });
    expect(res.status).toBe(201);
  });
});
