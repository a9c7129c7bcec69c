// A workflow with `log_retention: false` runs jobs whose lines reach the live tail but never
// ClickHouse, while a workflow with the default keeps every line; a PUT turns retention off for the
// jobs created after it; analytics count exactly the stored lines, per user and per workflow. The
// whole system over a real socket, with ClickHouse and the log processor's consumer read directly.
import type { ClickHouseClient } from '@clickhouse/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { streamNames } from '../../src/events/stream-definitions.ts';
import { connectClickhouse } from '../../src/infra/clickhouse-connection.ts';
import { quoteString } from '../../src/infra/clickhouse-literal.ts';
import { connectNats, type Nats } from '../../src/infra/nats-connection.ts';
import { LOG_PROCESSOR } from '../../src/logs/log-processor.ts';
import { waitUntil } from '../../src/stack/process-control.ts';
import { ApiClient, startSystem, type TestSystem } from '../support/system.ts';

let system: TestSystem;
let alice: ApiClient;
let bob: ApiClient;
let clickhouse: ClickHouseClient;
let nats: Nats;

const KEPT_LINES = 25;
const DROPPED_LINES = 40;

type Workflow = { id: string; log_retention: boolean; build_status: string };

async function containerWorkflow(name: string, lines: number, extra: Record<string, unknown> = {}) {
  const res = await alice.post<{ id: string }>('/workflows', {
    name,
    kind: 'CONTAINER',
    payload: { image: 'chronoverse/busybox:local', cmd: ['sh', '-c', `seq 1 ${lines}`], timeout: '1m' },
    interval: 60,
    ...extra,
  });
  expect(res.status).toBe(201);
  const id = res.body.id;
  await waitUntil(
    `${name} built`,
    async () => (await alice.get<Workflow>(`/workflows/${id}`)).body.build_status === 'COMPLETED',
    60_000,
  );
  return id;
}

async function runToCompletion(workflowId: string): Promise<string> {
  const res = await alice.post<{ job_id: string }>(`/workflows/${workflowId}/jobs/schedule`);
  expect(res.status).toBe(201);
  const jobId = res.body.job_id;
  let status = '';
  await waitUntil(
    'job final',
    async () => {
      status = (await alice.get<{ status: string }>(`/workflows/${workflowId}/jobs/${jobId}`)).body.status;
      return ['COMPLETED', 'FAILED', 'CANCELED'].includes(status);
    },
    60_000,
  );
  expect(status).toBe('COMPLETED');
  return jobId;
}

/** Lines ClickHouse holds where `column` is `value`, read directly (not through the API). */
async function storedLines(column: 'job_id' | 'workflow_id', value: string): Promise<number> {
  const rs = await clickhouse.query({
    query: `SELECT count() AS n FROM ${system.dbs.config.CLICKHOUSE_DATABASE}.job_logs FINAL WHERE ${column} = ${quoteString(value)}`,
    format: 'JSONEachRow',
  });
  const [row] = await rs.json<{ n: number }>();
  return Number(row?.n ?? 0);
}

/**
 * The log processor has handled every batch in CV_LOGS: none waits for delivery or for its ack. A job
 * is final only once all its batches are in CV_LOGS, so after this a line not in ClickHouse never
 * will be: the absence checks below cannot pass merely by being early.
 */
async function logProcessorDrained(): Promise<void> {
  await waitUntil(
    'log processor drained',
    async () => {
      const info = await nats.jsm.consumers.info(streamNames.logs, LOG_PROCESSOR);
      return info.num_pending === 0 && info.num_ack_pending === 0;
    },
    30_000,
  );
}

/** The live tail of a job: its `log` events' data, until `end`. */
async function tailLines(workflowId: string, jobId: string): Promise<string[]> {
  const res = await fetch(`${system.baseUrl}/workflows/${workflowId}/jobs/${jobId}/events`, {
    headers: { authorization: `Bearer ${alice.token}`, accept: 'text/event-stream' },
    signal: AbortSignal.timeout(30_000),
  });
  expect(res.status).toBe(200);
  let text = '';
  const reader = res.body!.pipeThrough(new TextDecoderStream()).getReader();
  while (!text.includes('event: end')) {
    const { value, done } = await reader.read();
    if (done) break;
    text += value;
  }
  await reader.cancel();
  return text
    .split('\n\n')
    .filter((block) => block.includes('event: log'))
    .map((block) => {
      const data = block.split('\n').find((line) => line.startsWith('data: '))!;
      return (JSON.parse(data.slice('data: '.length)) as { message: string }).message;
    });
}

const sequence = (n: number) => Array.from({ length: n }, (_, i) => String(i + 1));

let dropped: string;
let kept: string;
let droppedJob: string;
let keptJob: string;

beforeAll(async () => {
  system = await startSystem();
  alice = new ApiClient(system.baseUrl);
  bob = new ApiClient(system.baseUrl);
  await alice.signUp('alice.retention@example.com');
  await bob.signUp('bob.retention@example.com');
  const c = system.dbs.config;
  clickhouse = connectClickhouse({
    url: c.CLICKHOUSE_URL,
    database: c.CLICKHOUSE_DATABASE,
    username: c.CLICKHOUSE_USER,
    password: c.CLICKHOUSE_PASSWORD,
  });
  nats = await connectNats(system.nats.url, 'log-retention-e2e');
  [dropped, kept] = await Promise.all([
    containerWorkflow('no logs kept', DROPPED_LINES, { log_retention: false }),
    containerWorkflow('logs kept', KEPT_LINES),
  ]);
});

afterAll(async () => {
  await clickhouse?.close();
  await nats?.nc.close();
  await system?.dispose();
});

describe('log_retention', () => {
  it('is returned by GET /workflows/{id}: false as asked, true by default', async () => {
    expect((await alice.get<Workflow>(`/workflows/${dropped}`)).body.log_retention).toBe(false);
    expect((await alice.get<Workflow>(`/workflows/${kept}`)).body.log_retention).toBe(true);
  });

  it('stores no line of a job of a workflow with log_retention false, every line of the other', async () => {
    droppedJob = await runToCompletion(dropped);
    keptJob = await runToCompletion(kept);
    await waitUntil(
      'kept lines stored',
      async () => (await storedLines('job_id', keptJob)) === KEPT_LINES,
      30_000,
    );
    await logProcessorDrained();
    expect(await storedLines('job_id', droppedJob)).toBe(0);
    expect(await storedLines('workflow_id', dropped)).toBe(0);
    expect(await storedLines('workflow_id', kept)).toBe(KEPT_LINES);

    // The API agrees: no page, an empty download at once (nothing to wait for), while the kept
    // job's lines are all there.
    const base = `/workflows/${dropped}/jobs/${droppedJob}/logs`;
    expect((await alice.get<{ items: unknown[] }>(base)).body.items).toEqual([]);
    const raw = await fetch(`${system.baseUrl}${base}/raw?format=txt`, {
      headers: { authorization: `Bearer ${alice.token}` },
    });
    expect([raw.status, await raw.text()]).toEqual([200, '']);
    const keptPage = await alice.get<{ items: { message: string }[] }>(
      `/workflows/${kept}/jobs/${keptJob}/logs?order=asc&limit=1000`,
    );
    expect(keptPage.body.items.map((l) => l.message)).toEqual(sequence(KEPT_LINES));
  });

  it('still shows the lines in the live tail while the buffer holds them', async () => {
    expect(await tailLines(dropped, droppedJob)).toEqual(sequence(DROPPED_LINES));
  });

  it('counts exactly the stored lines in analytics, per user and per workflow', async () => {
    type Analytics = { log_lines: number; jobs_completed: number };
    expect((await alice.get<Analytics>('/analytics')).body).toMatchObject({
      log_lines: KEPT_LINES,
      jobs_completed: 2,
    });
    expect((await alice.get<Analytics>(`/analytics/workflows/${kept}`)).body.log_lines).toBe(KEPT_LINES);
    expect((await alice.get<Analytics>(`/analytics/workflows/${dropped}`)).body.log_lines).toBe(0);
    expect((await bob.get<Analytics>('/analytics')).body.log_lines).toBe(0);
    expect((await bob.get(`/analytics/workflows/${kept}`)).status).toBe(404);
  });

  it('turned off by PUT, applies to the jobs created after it; the lines already stored stay', async () => {
    const off = await alice.request<Workflow>('PUT', `/workflows/${kept}`, {
      body: { log_retention: false },
    });
    expect([off.status, off.body.log_retention]).toEqual([200, false]);
    const later = await runToCompletion(kept);
    await logProcessorDrained();
    expect(await storedLines('job_id', later)).toBe(0);
    expect(await storedLines('job_id', keptJob)).toBe(KEPT_LINES);
    expect((await alice.get<{ log_lines: number }>(`/analytics/workflows/${kept}`)).body.log_lines).toBe(
      KEPT_LINES,
    );

    const on = await alice.request<Workflow>('PUT', `/workflows/${kept}`, { body: { log_retention: true } });
    expect([on.status, on.body.log_retention]).toEqual([200, true]);
  });
});
