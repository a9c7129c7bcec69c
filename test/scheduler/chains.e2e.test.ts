// Workflows that start workflows, over the API with the whole system: A → B → C of HEARTBEAT
// workflows (on_success) run in order after A's run-now, each job naming the job whose end started
// it; a chain that would close a cycle is refused naming it; a paused target is a recorded skip.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitUntil } from '../../src/stack/process-control.ts';
import { ApiClient, startSystem, type TestSystem } from '../support/system.ts';

let system: TestSystem;
let user: ApiClient;
let endpoint: Server;
let base: string;
const heard: { path: string; at: number }[] = [];

beforeAll(async () => {
  endpoint = createServer((req, res) => {
    heard.push({ path: req.url ?? '', at: Date.now() });
    res.writeHead(200).end('ok');
  });
  await new Promise<void>((r) => endpoint.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(endpoint.address() as AddressInfo).port}`;
  system = await startSystem();
  user = new ApiClient(system.baseUrl);
  await user.signUp('chains@example.com');
});

afterAll(async () => {
  await system?.dispose();
  endpoint?.close();
});

type Job = {
  id: string;
  trigger: string;
  status: string;
  started_at: string | null;
  caused_by: { workflow_id: string; job_id: string; depth: number } | null;
};

async function heartbeat(name: string, chain?: Record<string, string[]>): Promise<string> {
  const res = await user.post<{ id: string }>('/workflows', {
    name,
    kind: 'HEARTBEAT',
    payload: { endpoint: `${base}/${name}` },
    interval: 10_080,
    ...(chain ? { chain } : {}),
  });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return res.body.id;
}

async function jobsOf(id: string): Promise<Job[]> {
  return (await user.get<{ items: Job[] }>(`/workflows/${id}/jobs`)).body.items;
}

describe('chains', () => {
  it('runs A → B → C in order, each job linked to its cause, and refuses a cycle naming it', async () => {
    const c = await heartbeat('c');
    const b = await heartbeat('b', { on_success: [c] });
    const a = await heartbeat('a', { on_success: [b], on_failure: [c] });

    const run = await user.post<{ job_id: string }>(`/workflows/${a}/jobs/schedule`);
    expect(run.status).toBe(201);
    let cJobs: Job[] = [];
    await waitUntil(
      'C ran',
      async () => {
        cJobs = await jobsOf(c);
        return cJobs.some((j) => j.status === 'COMPLETED');
      },
      30_000,
    );
    const [bJob] = await jobsOf(b);
    expect(bJob).toMatchObject({
      trigger: 'CHAIN',
      status: 'COMPLETED',
      caused_by: { workflow_id: a, job_id: run.body.job_id, depth: 1 },
    });
    // C ran once: after B's success (A succeeded, so its on_failure did not fire).
    expect(cJobs).toHaveLength(1);
    expect(cJobs[0]).toMatchObject({
      trigger: 'CHAIN',
      caused_by: { workflow_id: b, job_id: bJob!.id, depth: 2 },
    });
    const order = ['/a', '/b', '/c'].map((p) => heard.find((h) => h.path === p)!.at);
    expect(order).toEqual([...order].sort((x, y) => x - y));
    // In the child's history too.
    const history = await user.get<{ items: { type: string; data: { trigger?: string } }[] }>(
      `/workflows/${b}/history`,
    );
    expect(history.body.items.some((e) => e.type === 'JobScheduled' && e.data.trigger === 'CHAIN')).toBe(
      true,
    );

    // C → A would close A → B → C → A.
    const cycle = await user.request<{ code: string; detail: string }>('PUT', `/workflows/${c}`, {
      body: { chain: { on_end: [a] } },
    });
    expect([cycle.status, cycle.body.code]).toEqual([422, 'chain_cycle']);
    expect(cycle.body.detail).toBe(
      'The chain would run in a circle: this workflow → “a” → “b” → this workflow',
    );
    const stranger = await user.post<{ code: string }>('/workflows', {
      name: 'stranger',
      kind: 'HEARTBEAT',
      payload: { endpoint: `${base}/x` },
      interval: 60,
      chain: { on_end: ['00000000-0000-4000-8000-000000000000'] },
    });
    expect([stranger.status, stranger.body.code]).toEqual([422, 'chain_target_not_found']);

    // A paused target: a recorded skip, not a run and not an error.
    expect((await user.post(`/workflows/${b}/pause`)).status).toBe(200);
    const again = await user.post<{ job_id: string }>(`/workflows/${a}/jobs/schedule`);
    await waitUntil(
      'the skip recorded on B',
      async () => {
        const h = await user.get<{
          items: { type: string; data: { reason?: string; caused_by?: { job_id: string } } }[];
        }>(`/workflows/${b}/history`);
        return h.body.items.some(
          (e) =>
            e.type === 'ChainSkipped' &&
            e.data.reason === 'paused' &&
            e.data.caused_by?.job_id === again.body.job_id,
        );
      },
      30_000,
    );
    expect((await jobsOf(b)).filter((j) => j.trigger === 'CHAIN')).toHaveLength(1);
  });
});
