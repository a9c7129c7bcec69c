// The API through a client generated from its own OpenAPI document (test/support/api-client, by
// swagger-typescript-api): what a user of a generated client does, typechecked against the document —
// sign up, create both kinds of workflow, run each now, read the job, and page through every list.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitUntil } from '../../src/stack/process-control.ts';
import { Api } from '../support/api-client/chronoverse-api.ts';
import { TEST_IMAGE } from '../support/executor-harness.ts';
import { startSystem, type TestSystem } from '../support/system.ts';

let system: TestSystem;
let endpoint: Server;
let api: Api<string>;

beforeAll(async () => {
  endpoint = createServer((_req, res) => res.writeHead(200).end('ok'));
  await new Promise<void>((r) => endpoint.listen(0, '127.0.0.1', r));
  system = await startSystem();
  api = new Api<string>({
    baseUrl: system.baseUrl,
    securityWorker: (token) => (token ? { headers: { Authorization: `Bearer ${token}` } } : {}),
  });
});

afterAll(async () => {
  await system?.dispose();
  endpoint?.close();
});

/** Every page of a keyset-paged list, one item per page, so the cursors are all used. */
async function everyPage<T>(
  page: (cursor: string | undefined) => Promise<{ data: { items: T[]; next_cursor: string | null } }>,
): Promise<T[]> {
  const all: T[] = [];
  let cursor: string | undefined;
  for (let n = 0; n < 100; n++) {
    const { data } = await page(cursor);
    all.push(...data.items);
    if (data.next_cursor === null) return all;
    cursor = data.next_cursor;
  }
  throw new Error('more than 100 pages');
}

async function runToTheEnd(workflowId: string): Promise<string> {
  const { data: scheduled } = await api.workflows.runWorkflowNow(workflowId);
  await waitUntil(
    'job ended',
    async () =>
      ['COMPLETED', 'FAILED', 'CANCELED'].includes(
        (await api.workflows.getJob(workflowId, scheduled.job_id)).data.status,
      ),
    60_000,
  );
  return scheduled.job_id;
}

describe('a client generated from /openapi.json', () => {
  it('signs up, creates both kinds, runs them now, reads the jobs and pages every list', async () => {
    const email = 'typed-client@example.com';
    const password = 'correct horse battery staple';
    expect((await api.auth.register({ email, password })).status).toBe(201);
    const { data: tokens } = await api.auth.login({ email, password });
    api.setSecurityData(tokens.access_token);
    expect((await api.users.getMe()).data.email).toBe(email);

    const heartbeat = await api.workflows.createWorkflow({
      name: 'typed heartbeat',
      kind: 'HEARTBEAT',
      payload: { endpoint: `http://127.0.0.1:${(endpoint.address() as AddressInfo).port}/health` },
      interval: 60,
    });
    expect(heartbeat.status).toBe(201);
    const container = await api.workflows.createWorkflow({
      name: 'typed container',
      kind: 'CONTAINER',
      payload: { image: TEST_IMAGE, cmd: ['sh', '-c', 'echo one; echo two'] },
      schedule: { cron: '0 0 1 1 *', timezone: 'Europe/Berlin' },
      overlap_policy: 'skip',
    });
    expect(container.status).toBe(201);
    const hb = heartbeat.data.id;
    const ctr = container.data.id;

    const updated = await api.workflows.updateWorkflow(hb, { name: 'typed heartbeat, renamed' });
    expect(updated.data.name).toBe('typed heartbeat, renamed');

    const hbJob = await runToTheEnd(hb);
    expect((await api.workflows.getJob(hb, hbJob)).data).toMatchObject({
      status: 'COMPLETED',
      trigger: 'MANUAL',
    });
    await waitUntil(
      'built',
      async () => (await api.workflows.getWorkflow(ctr)).data.build_status === 'COMPLETED',
      60_000,
    );
    const ctrJob = await runToTheEnd(ctr);
    expect((await api.workflows.getJob(ctr, ctrJob)).data.status).toBe('COMPLETED');

    const workflows = await everyPage((cursor) =>
      api.workflows.listWorkflows({ limit: 1, ...(cursor ? { cursor } : {}) }),
    );
    expect(workflows.map((w) => w.id).sort()).toEqual([hb, ctr].sort());
    const jobs = await everyPage((cursor) =>
      api.workflows.listJobs(ctr, { limit: 1, ...(cursor ? { cursor } : {}) }),
    );
    expect(jobs.map((j) => j.id)).toEqual([ctrJob]);
    await waitUntil(
      'lines stored',
      async () => (await api.workflows.listJobLogs(ctr, ctrJob, { limit: 10 })).data.items.length === 2,
      30_000,
    );
    const lines = await everyPage((cursor) =>
      api.workflows.listJobLogs(ctr, ctrJob, { limit: 1, order: 'asc', ...(cursor ? { cursor } : {}) }),
    );
    expect(lines.map((l) => l.message)).toEqual(['one', 'two']);
    const found = await everyPage((cursor) =>
      api.workflows.searchJobLogs(ctr, ctrJob, { q: 'TWO', limit: 1, ...(cursor ? { cursor } : {}) }),
    );
    expect(found).toHaveLength(1);
    const ticks = await everyPage((cursor) =>
      api.workflows.listTicks(ctr, { limit: 1, ...(cursor ? { cursor } : {}) }),
    );
    expect(ticks).toEqual([]);
    const notifications = await everyPage((cursor) =>
      api.notifications.listNotifications({ limit: 1, ...(cursor ? { cursor } : {}) }),
    );
    expect(Array.isArray(notifications)).toBe(true);

    // The history pages by sequence (next_after) rather than by cursor.
    const history: { type: string }[] = [];
    let after: number | undefined;
    for (let n = 0; n < 100; n++) {
      const { data } = await api.workflows.getWorkflowHistory(hb, {
        limit: 1,
        ...(after === undefined ? {} : { after }),
      });
      history.push(...data.items);
      if (data.next_after === null) break;
      after = data.next_after;
    }
    expect(history.map((e) => e.type)).toEqual(
      expect.arrayContaining(['WorkflowCreated', 'WorkflowUpdated', 'JobScheduled']),
    );

    const totals = (await api.analytics.getAnalytics()).data;
    expect(totals).toMatchObject({ workflows: 2, jobs_completed: 2 });
  });
});
