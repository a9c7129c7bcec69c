// A CONTAINER workflow's secret_env: the container gets the value in its environment; the API, the
// audit history and the process's own log never show it.
import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitUntil } from '../../src/stack/process-control.ts';
import { TEST_IMAGE } from '../support/executor-harness.ts';
import { ApiClient, startSystem, type TestSystem } from '../support/system.ts';

const SECRET = 'pa55-w0rd-that-must-not-leak';
let system: TestSystem;
let user: ApiClient;

beforeAll(async () => {
  system = await startSystem({ CV_LOG_LEVEL: 'debug' });
  user = new ApiClient(system.baseUrl);
  await user.signUp('secrets@example.com');
});
afterAll(async () => {
  await system?.dispose();
});

describe('secret environment values', () => {
  it('reach the container and nothing else', { timeout: 120_000 }, async () => {
    const created = await user.post<{ id: string }>('/workflows', {
      name: 'uses a token',
      kind: 'CONTAINER',
      payload: {
        image: TEST_IMAGE,
        // The container shows that it has the value without printing it: its SHA-256.
        cmd: ['sh', '-c', 'printf %s "$TOKEN" | sha256sum | cut -c1-64'],
        secret_env: { TOKEN: SECRET },
      },
      interval: 60,
    });
    expect(created.status).toBe(201);
    const id = created.body.id;

    const read = await user.get<{ payload: { secret_env: Record<string, string> } }>(`/workflows/${id}`);
    expect(read.body.payload.secret_env).toEqual({ TOKEN: '********' });
    const history = await user.get(`/workflows/${id}/history`);
    expect(JSON.stringify(history.body)).toContain('cvsecret:v1:');

    await waitUntil(
      'built',
      async () =>
        (await user.get<{ build_status: string }>(`/workflows/${id}`)).body.build_status === 'COMPLETED',
      60_000,
    );
    const run = await user.post<{ job_id: string }>(`/workflows/${id}/jobs/schedule`);
    const jobId = run.body.job_id;
    await waitUntil(
      'job ended',
      async () =>
        ['COMPLETED', 'FAILED'].includes(
          (await user.get<{ status: string }>(`/workflows/${id}/jobs/${jobId}`)).body.status,
        ),
      60_000,
    );
    await waitUntil(
      'line stored',
      async () =>
        (await user.get<{ items: unknown[] }>(`/workflows/${id}/jobs/${jobId}/logs`)).body.items.length > 0,
      30_000,
    );
    const lines = await user.get<{ items: { message: string }[] }>(`/workflows/${id}/jobs/${jobId}/logs`);
    expect(lines.body.items.map((l) => l.message)).toEqual([
      createHash('sha256').update(SECRET).digest('hex'),
    ]);

    // Where the value may not be: the workflow, its jobs, its history, the process's log.
    for (const path of [
      `/workflows/${id}`,
      `/workflows/${id}/history`,
      `/workflows/${id}/jobs`,
      `/workflows/${id}/jobs/${jobId}/history`,
    ]) {
      expect(JSON.stringify((await user.get(path)).body)).not.toContain(SECRET);
    }
    expect(system.process.output()).not.toContain(SECRET);

    // An update that leaves secret_env out keeps the secrets (a client was never shown them); {} removes them.
    const kept = await user.request<{ payload: { secret_env: Record<string, string>; cmd: string[] } }>(
      'PUT',
      `/workflows/${id}`,
      { body: { payload: { image: TEST_IMAGE, cmd: ['sh', '-c', 'printf %s "$TOKEN" | wc -c'] } } },
    );
    expect(kept.status).toBe(200);
    expect(kept.body.payload.secret_env).toEqual({ TOKEN: '********' });
    const removed = await user.request<{ payload: { secret_env: Record<string, string> } }>(
      'PUT',
      `/workflows/${id}`,
      {
        body: { payload: { image: TEST_IMAGE, cmd: ['true'], secret_env: {} } },
      },
    );
    expect(removed.body.payload.secret_env).toEqual({});
  });
});
