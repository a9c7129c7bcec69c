// HEARTBEAT jobs against a local HTTP server; two executors sharing one queue of 200 jobs run each
// exactly once; a container printing 100,000 lines loses none of them.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { aggregateHistory } from '../../src/events/history.ts';
import { TEST_IMAGE, useExecutorHarness } from '../support/executor-harness.ts';

const h = useExecutorHarness({ withExecutor: false });
let server: Server;
let base: string;
const hits = new Map<string, number>();

beforeAll(async () => {
  server = createServer((req, res) => {
    const url = req.url ?? '';
    hits.set(url, (hits.get(url) ?? 0) + 1);
    if (url.startsWith('/ok')) return res.writeHead(200, { 'content-type': 'text/plain' }).end('all good');
    if (url.startsWith('/created')) return res.writeHead(201).end();
    if (url.startsWith('/slow')) return setTimeout(() => res.writeHead(200).end(), 5000);
    res.writeHead(500).end('broken');
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  await h.startExecutor({ concurrency: 8 });
  await h.startExecutor({ concurrency: 8 });
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise((r) => server.close(r));
});

async function heartbeat(path: string, extra: Record<string, unknown> = {}) {
  const wf = await h.createWorkflow('HEARTBEAT', { endpoint: `${base}${path}`, ...extra });
  const jobId = await h.runNow(wf);
  return { jobId, job: await h.waitForFinal(jobId) };
}

describe('HEARTBEAT jobs', () => {
  it('pass when the status matches, with the result as log lines', async () => {
    const { jobId, job } = await heartbeat('/ok');
    expect(job.status).toBe('COMPLETED');
    const lines = (await h.logs(jobId)).map((l) => l.line);
    expect(lines[0]).toBe(`GET ${base}/ok`);
    expect(lines[1]).toMatch(/^status 200 in \d+ ms \(expected 200\)$/);
    expect(lines[2]).toBe('body: all good');
    expect((await heartbeat('/created', { expected_status_code: 201 })).job.status).toBe('COMPLETED');
  });

  it('fail as USER on another status, on a timeout, and on a refused connection', async () => {
    expect((await heartbeat('/fail')).job).toMatchObject({
      status: 'FAILED',
      failure_kind: 'USER',
      failure_reason: 'status_mismatch',
    });
    expect((await heartbeat('/slow', { timeout: '500ms' })).job).toMatchObject({
      status: 'FAILED',
      failure_kind: 'USER',
      failure_reason: 'timeout',
    });
    const wf = await h.createWorkflow('HEARTBEAT', { endpoint: 'http://127.0.0.1:9/closed' });
    expect(await h.waitForFinal(await h.runNow(wf))).toMatchObject({
      status: 'FAILED',
      failure_kind: 'USER',
      failure_reason: 'request_failed',
    });
  });
});

describe('two executors on one queue', () => {
  it('run 200 jobs, each exactly once', async () => {
    const wf = await h.createWorkflow('HEARTBEAT', { endpoint: `${base}/ok?batch` });
    const jobIds: string[] = [];
    for (let i = 0; i < 200; i++) jobIds.push(await h.runNow(wf));
    const jobs = await Promise.all(jobIds.map((id) => h.waitForFinal(id, 60_000)));
    expect(jobs.every((j) => j.status === 'COMPLETED')).toBe(true);
    expect(hits.get('/ok?batch')).toBe(200);
    const starts = await Promise.all(
      jobIds.map(async (id) =>
        (await aggregateHistory(h.env.runtime.events, h.userId, 'job', id, { limit: 100 })).entries.filter(
          (e) => e.event.type === 'JobStarted',
        ),
      ),
    );
    expect(starts.every((s) => s.length === 1)).toBe(true);
    // Both executors took part.
    expect(new Set(jobs.map((j) => j.executor_id)).size).toBe(2);
  });
});

describe('log volume', () => {
  it('keeps every one of 100,000 lines, in order', async () => {
    const wf = await h.createWorkflow('CONTAINER', {
      image: TEST_IMAGE,
      cmd: ['seq', '1', '100000'],
      timeout: '2m',
    });
    const jobId = await h.runNow(wf);
    expect((await h.waitForFinal(jobId, 120_000)).status).toBe('COMPLETED');
    const lines = await h.logs(jobId);
    expect(lines).toHaveLength(100_000);
    expect(lines.every((l, i) => l.seq === i + 1 && l.line === String(i + 1))).toBe(true);
  });
});
