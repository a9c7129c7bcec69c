// OpenTelemetry end to end: real role processes with the SDK on (the --import bootstrap, as
// bin/chronoverse runs them) export over OTLP/HTTP to a receiver in this test. The API, projector
// and scheduler run in one process, the executor in another, so the trace crosses NATS between
// processes. A run-now request and a scheduled tick each make one trace, from the HTTP request (or
// the tick) through the append, the reactors, the dispatch and the executor's job span to the
// HEARTBEAT request, which reaches the endpoint with the trace's traceparent; the metrics arrive too.
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitUntil } from '../../src/stack/process-control.ts';
import { freePort } from '../support/nats-server.ts';
import {
  type OtlpReceiver,
  type ReceivedSpan,
  SpanKinds,
  startOtlpReceiver,
} from '../support/otlp-receiver.ts';
import { type RoleProcess, startRole } from '../support/role-process.ts';
import { ApiClient, startSystem, type TestSystem } from '../support/system.ts';

let receiver: OtlpReceiver;
let system: TestSystem;
let executor: RoleProcess;
let endpoint: Server;
let base: string;
let user: ApiClient;
let prometheus: string;
/** The headers of every request the HEARTBEAT endpoint received, by path. */
const received = new Map<string, IncomingHttpHeaders[]>();

const otel = (service: string) => ({
  OTEL_SERVICE_NAME: service,
  OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
  OTEL_BSP_SCHEDULE_DELAY: '100',
  OTEL_METRIC_EXPORT_INTERVAL: '1000',
});

beforeAll(async () => {
  receiver = await startOtlpReceiver();
  endpoint = createServer((req, res) => {
    const path = req.url ?? '/';
    received.set(path, [...(received.get(path) ?? []), req.headers]);
    // /slow holds an executor slot for 3 s (to make ticks late on purpose).
    setTimeout(() => res.writeHead(200).end('ok'), path.startsWith('/slow') ? 3000 : 0);
  });
  await new Promise<void>((r) => endpoint.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(endpoint.address() as AddressInfo).port}`;
  const env = { OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url };
  system = await startSystem({ ...env, ...otel('cv-control') }, 'api,projector,scheduler');
  // The executor also serves its metrics for Prometheus (OTEL_METRICS_EXPORTER takes a list).
  const prometheusPort = await freePort();
  prometheus = `http://127.0.0.1:${prometheusPort}/metrics`;
  executor = startRole('executor', system.dbs.config, {
    ...env,
    ...otel('cv-executor'),
    OTEL_METRICS_EXPORTER: 'otlp,prometheus',
    OTEL_EXPORTER_PROMETHEUS_HOST: '127.0.0.1',
    OTEL_EXPORTER_PROMETHEUS_PORT: String(prometheusPort),
    CV_LOG_LEVEL: 'info',
  });
  await executor.waitFor('executor started');
  user = new ApiClient(system.baseUrl);
  await user.signUp('telemetry@example.com');
});

afterAll(async () => {
  await executor?.kill('SIGTERM');
  await system?.dispose();
  endpoint?.close();
  await receiver?.close();
});

const spansOf = (traceId: string) => receiver.spans.filter((s) => s.traceId === traceId);

/** The span and its ancestors, innermost first; throws if a parent was never exported. */
function ancestry(span: ReceivedSpan): ReceivedSpan[] {
  const chain = [span];
  for (let s = span; s.parentSpanId; ) {
    const parent = receiver.spans.find((p) => p.spanId === s.parentSpanId && p.traceId === s.traceId);
    if (!parent) throw new Error(`parent ${s.parentSpanId} of "${s.name}" was not exported`);
    chain.push(parent);
    s = parent;
  }
  return chain;
}

/** The executor's job span of a job (CONSUMER of the dispatch message), once its children are in. */
async function jobSpan(jobId: string): Promise<ReceivedSpan> {
  let found: ReceivedSpan | undefined;
  await waitUntil(
    `job span of ${jobId}`,
    async () => {
      found = receiver.spans.find(
        (s) => s.kind === SpanKinds.consumer && s.attributes['chronoverse.job.id'] === jobId,
      );
      if (!found) return false;
      // Every process exports on its own schedule: wait for the whole chain up to the root, and for
      // the run (`job HEARTBEAT`) and the HTTP request under the job span.
      try {
        ancestry(found);
      } catch {
        return false;
      }
      return spansOf(found.traceId).some((s) => s.name === 'GET');
    },
    30_000,
  ).catch((err: unknown) => {
    if (!found) throw err;
    ancestry(found);
    throw err;
  });
  return found!;
}

async function completed(workflowId: string, jobId: string): Promise<void> {
  await waitUntil(
    `job ${jobId} completed`,
    async () =>
      (await user.get<{ status: string }>(`/workflows/${workflowId}/jobs/${jobId}`)).body.status ===
      'COMPLETED',
    30_000,
  );
}

/** The one trace a job's run belongs to, checked hop by hop; returns its spans, root last. */
function expectJobTrace(job: ReceivedSpan, path: string): ReceivedSpan[] {
  const chain = ancestry(job);
  const names = chain.map((s) => s.name);
  // Executor process: the job span is the CONSUMER of the dispatch message, child of its PRODUCER.
  expect(job.name).toBe('process cv.dispatch.default');
  expect(job.service).toBe('cv-executor');
  expect(chain[1]).toMatchObject({ name: 'send cv.dispatch.default', kind: SpanKinds.producer });
  expect(chain[1]?.service).toBe('cv-control');
  expect(job.links.map((l) => l.spanId)).toEqual([chain[1]?.spanId]);
  // The lifecycle reactor, reacting to the workflow's JobScheduled commit, created and queued the job
  // and published its first attempt's dispatch (the job's commit is a sibling, not an ancestor).
  expect(chain[2]).toMatchObject({ name: 'process cv.evt.{user_id}.workflow.{workflow_id}' });
  expect(names).not.toContain('process cv.evt.{user_id}.job.{job_id}');
  expect(names).toContain('send cv.evt.{user_id}.workflow.{workflow_id}');
  for (const s of chain) {
    if (s.name.startsWith('send ')) {
      expect(s.kind).toBe(SpanKinds.producer);
      expect(s.attributes['messaging.system']).toBe('nats');
      expect(s.attributes['messaging.message.id']).toBeTruthy();
    }
    if (s.name.startsWith('process cv.evt.')) {
      expect(s.kind).toBe(SpanKinds.consumer);
      expect(s.attributes['messaging.consumer.group.name']).toBe('reactor_job_lifecycle');
    }
  }
  // Under the job span: its run, the StartJob and CompleteJob appends, and the HEARTBEAT request as
  // a CLIENT span whose context reached the endpoint.
  const below = spansOf(job.traceId);
  const run = below.find((s) => s.name === 'job HEARTBEAT' && s.parentSpanId === job.spanId);
  expect(run?.attributes['chronoverse.job.outcome']).toBe('completed');
  const get = below.find((s) => s.name === 'GET' && s.parentSpanId === run?.spanId);
  expect(get).toMatchObject({ kind: SpanKinds.client });
  expect(get?.attributes).toMatchObject({
    'http.request.method': 'GET',
    'http.response.status_code': 200,
    'url.full': `${base}${path}`,
  });
  expect(received.get(path)?.map((h) => h.traceparent)).toContain(`00-${job.traceId}-${get?.spanId}-01`);
  const appendsOfJob = below.filter(
    (s) => s.name === 'send cv.evt.{user_id}.job.{job_id}' && s.parentSpanId === job.spanId,
  );
  expect(appendsOfJob.map((s) => s.attributes['chronoverse.event.types'])).toEqual(
    expect.arrayContaining(['JobStarted', 'JobCompleted']),
  );
  return chain;
}

describe('one trace per job', () => {
  it('run now: from the HTTP request through the reactors and the dispatch to the executor and its HEARTBEAT', async () => {
    const created = await user.post<{ id: string }>('/workflows', {
      name: 'traced',
      kind: 'HEARTBEAT',
      payload: { endpoint: `${base}/run-now` },
      interval: 60,
    });
    expect(created.status).toBe(201);
    const run = await user.post<{ job_id: string }>(`/workflows/${created.body.id}/jobs/schedule`);
    expect(run.status).toBe(201);
    await completed(created.body.id, run.body.job_id);

    const chain = expectJobTrace(await jobSpan(run.body.job_id), '/run-now');
    const root = chain.at(-1)!;
    expect(root).toMatchObject({
      name: 'POST /workflows/:id/jobs/schedule',
      kind: SpanKinds.server,
      service: 'cv-control',
    });
    expect(root.attributes['http.route']).toBe('/workflows/:id/jobs/schedule');
    expect(root.attributes['http.response.status_code']).toBe(201);
    // The API's append is the SERVER span's descendant, and the first hop of the chain.
    expect(chain.at(-2)?.name).toBe('send cv.evt.{user_id}.workflow.{workflow_id}');
  });

  it('a scheduled tick: from the scheduler’s tick through the dispatch to the executor', async () => {
    const created = await user.post<{ id: string }>('/workflows', {
      name: 'ticking',
      kind: 'HEARTBEAT',
      payload: { endpoint: `${base}/tick` },
      schedule: { cron: '*/2 * * * * *', timezone: 'UTC' },
    });
    expect(created.status).toBe(201);
    const id = created.body.id;
    let jobId: string | undefined;
    await waitUntil(
      'a scheduled job completed',
      async () => {
        const jobs = await user.get<{ items: { id: string; status: string; trigger: string }[] }>(
          `/workflows/${id}/jobs`,
        );
        jobId = jobs.body.items.find((j) => j.status === 'COMPLETED' && j.trigger === 'AUTOMATIC')?.id;
        return jobId !== undefined;
      },
      40_000,
    );
    await user.post(`/workflows/${id}/pause`);

    const chain = expectJobTrace(await jobSpan(jobId!), '/tick');
    const root = chain.at(-1)!;
    expect(root).toMatchObject({ name: 'tick FireTick', kind: SpanKinds.internal, service: 'cv-control' });
    expect(root.attributes['chronoverse.workflow.id']).toBe(id);
    expect(root.attributes['chronoverse.tick.outcome']).toBe('fired');
  });

  it('a CONTAINER job: Docker calls as CLIENT spans under the run, and TRACEPARENT in the container', async () => {
    const created = await user.post<{ id: string }>('/workflows', {
      name: 'traced container',
      kind: 'CONTAINER',
      payload: {
        image: 'chronoverse/busybox:local',
        cmd: ['sh', '-c', 'echo "traceparent=$TRACEPARENT"'],
        timeout: '1m',
      },
      interval: 60,
    });
    expect(created.status).toBe(201);
    const id = created.body.id;
    await waitUntil(
      'the image built',
      async () =>
        (await user.get<{ build_status: string }>(`/workflows/${id}`)).body.build_status === 'COMPLETED',
      60_000,
    );
    const run = await user.post<{ job_id: string }>(`/workflows/${id}/jobs/schedule`);
    expect(run.status).toBe(201);
    await completed(id, run.body.job_id);
    let job: ReceivedSpan | undefined;
    await waitUntil(
      'the container spans',
      async () => {
        job = receiver.spans.find(
          (s) => s.kind === SpanKinds.consumer && s.attributes['chronoverse.job.id'] === run.body.job_id,
        );
        return job !== undefined && spansOf(job.traceId).some((s) => s.name === 'docker remove');
      },
      30_000,
    );
    const inTrace = spansOf(job!.traceId);
    const runSpan = inTrace.find((s) => s.name === 'job CONTAINER' && s.parentSpanId === job!.spanId);
    expect(runSpan).toBeDefined();
    const docker = inTrace.filter((s) => s.name.startsWith('docker ') && s.parentSpanId === runSpan?.spanId);
    expect(docker.map((s) => s.name)).toEqual(
      expect.arrayContaining(['docker create', 'docker start', 'docker wait', 'docker remove']),
    );
    for (const s of docker) expect(s.kind).toBe(SpanKinds.client);
    // The container saw the run's context: the trace's id, the run span as parent.
    let line: string | undefined;
    await waitUntil(
      'the container’s line stored',
      async () => {
        const logs = await user.get<{ items: { message: string }[] }>(
          `/workflows/${id}/jobs/${run.body.job_id}/logs`,
        );
        line = logs.body.items.find((l) => l.message.startsWith('traceparent='))?.message;
        return line !== undefined;
      },
      30_000,
    );
    expect(line).toBe(`traceparent=00-${job!.traceId}-${runSpan?.spanId}-01`);
    // And its lines in ClickHouse name the trace: from a trace to its logs, and back.
    const { CLICKHOUSE_URL, CLICKHOUSE_DATABASE } = system.dbs.config;
    const query = `SELECT DISTINCT trace_id FROM ${CLICKHOUSE_DATABASE}.job_logs WHERE job_id = '${run.body.job_id}' FORMAT TSV`;
    const traceIds = (
      await (await fetch(`${CLICKHOUSE_URL}/?query=${encodeURIComponent(query)}`)).text()
    ).trim();
    expect(traceIds).toBe(job!.traceId);
  });

  it('an event stream’s SERVER span ends when the stream opens, not when it closes', async () => {
    const controller = new AbortController();
    const res = await fetch(`${system.baseUrl}/events`, {
      headers: { authorization: `Bearer ${user.token}` },
      signal: controller.signal,
    });
    expect(res.status).toBe(200);
    // The stream is still open while its span is exported.
    await waitUntil(
      'the /events span',
      async () => receiver.spans.some((s) => s.name === 'GET /events' && s.kind === SpanKinds.server),
      10_000,
    );
    controller.abort();
  });

  it('a refused request is not a failed SERVER span; the semantic conventions keep errors for 5xx', async () => {
    const missing = await user.get(`/workflows/${randomUUID()}`);
    expect(missing.status).toBe(404);
    const invalid = await user.post('/workflows', { name: '' });
    expect(invalid.status).toBe(422);
    const refused = () =>
      receiver.spans.filter(
        (s) =>
          s.kind === SpanKinds.server &&
          [404, 422].includes(Number(s.attributes['http.response.status_code'])),
      );
    await waitUntil('the two SERVER spans', async () => refused().length >= 2, 10_000);
    const spans = refused();
    for (const s of spans) expect(s.statusCode, s.name).toBe(0);
  });

  it('projection batches are traces of their own, linked to the appends they apply', () => {
    const batches = receiver.spans.filter(
      (s) => s.kind === SpanKinds.consumer && s.attributes['messaging.batch.message_count'] !== undefined,
    );
    expect(batches.length).toBeGreaterThan(0);
    for (const b of batches) expect(b.parentSpanId).toBe('');
    const appends = new Set(
      receiver.spans.filter((s) => s.kind === SpanKinds.producer).map((s) => `${s.traceId}/${s.spanId}`),
    );
    expect(batches.some((b) => b.links.some((l) => appends.has(`${l.traceId}/${l.spanId}`)))).toBe(true);
  });
});

describe('metrics', () => {
  it('the scheduler’s and the executor’s instruments are exported, without ids as attributes', async () => {
    const names = [
      'chronoverse.ticks',
      'chronoverse.tick.lateness',
      'chronoverse.job.queue.duration',
      'chronoverse.job.duration',
      'chronoverse.executor.slot.limit',
      'chronoverse.executor.slot.usage',
      'chronoverse.projection.lag',
      'http.server.request.duration',
    ];
    await waitUntil(
      'every instrument exported',
      async () => names.every((n) => receiver.metrics.some((m) => m.name === n)),
      20_000,
    ).catch(() => {
      throw new Error(`exported: ${[...new Set(receiver.metrics.map((m) => m.name))].join(', ')}`);
    });
    const latest = (name: string) => receiver.metrics.filter((m) => m.name === name).at(-1)!;
    expect(latest('chronoverse.tick.lateness').unit).toBe('s');
    expect(latest('chronoverse.job.duration').points).toContainEqual(
      expect.objectContaining({
        attributes: { 'chronoverse.job.kind': 'HEARTBEAT', 'chronoverse.job.outcome': 'completed' },
      }),
    );
    expect(latest('chronoverse.ticks').points).toContainEqual(
      expect.objectContaining({ attributes: { 'chronoverse.tick.outcome': 'fired' } }),
    );
    expect(latest('chronoverse.executor.slot.limit').points[0]?.value).toBe(4);
    for (const m of receiver.metrics.filter((x) => x.name.startsWith('chronoverse.'))) {
      for (const p of m.points) {
        for (const key of Object.keys(p.attributes)) expect(key, m.name).not.toMatch(/\.id$/);
      }
    }
  });

  it('with OTEL_METRICS_EXPORTER=prometheus a role serves them at /metrics', async () => {
    const text = await (await fetch(prometheus)).text();
    expect(text).toMatch(
      /^chronoverse_executor_slot_limit\{[^}]*chronoverse_executor_pool="default"[^}]*\} 4$/m,
    );
    expect(text).toMatch(
      /^chronoverse_job_duration_count\{[^}]*chronoverse_job_outcome="completed"[^}]*\} [1-9]/m,
    );
    expect(text).toMatch(/^chronoverse_tick_lateness_count\{[^}]*\} [1-9]/m);
    expect(text).toMatch(/^chronoverse_job_queue_duration_bucket\{/m);
    expect(text).toMatch(
      /^chronoverse_dispatch_pending\{[^}]*chronoverse_executor_pool="default"[^}]*\} \d+$/m,
    );
  });

  it('records a tick that fired late on purpose in the lateness histogram, and the dispatch backlog', async () => {
    /** Ticks later than `le` seconds so far: the count minus the bucket up to `le`. */
    const lateBeyond = async (le: string) => {
      const text = await (await fetch(prometheus)).text();
      const count = Number(/^chronoverse_tick_lateness_count\{[^}]*\} (\d+)/m.exec(text)?.[1] ?? 0);
      const bucket = new RegExp(`^chronoverse_tick_lateness_bucket\\{[^}]*le="${le}"[^}]*\\} (\\d+)`, 'm');
      const upTo = bucket.exec(text);
      if (count === 0) return 0;
      if (!upTo) throw new Error(`no lateness bucket le="${le}" in /metrics`);
      return count - Number(upTo[1]);
    };
    const before = await lateBeyond('1');
    const slow = await user.post<{ id: string }>('/workflows', {
      name: 'slow',
      kind: 'HEARTBEAT',
      payload: { endpoint: `${base}/slow`, timeout: '10s' },
      interval: 10_080,
    });
    const ticking = await user.post<{ id: string }>('/workflows', {
      name: 'every second',
      kind: 'HEARTBEAT',
      payload: { endpoint: `${base}/tick`, timeout: '10s' },
      schedule: { cron: '* * * * * *', timezone: 'UTC' },
      overlap_policy: 'allow',
    });
    // The executor's four slots held for 3 s by run-nows: the ticks due meanwhile wait for a slot.
    for (let i = 0; i < 4; i++) await user.post(`/workflows/${slow.body.id}/jobs/schedule`);
    let backlog = 0;
    await waitUntil(
      'a late tick observed',
      async () => {
        const text = await (await fetch(prometheus)).text();
        backlog = Math.max(
          backlog,
          Number(/^chronoverse_dispatch_pending\{[^}]*\} (\d+)$/m.exec(text)?.[1] ?? 0),
        );
        return (await lateBeyond('1')) > before;
      },
      20_000,
    );
    await user.post(`/workflows/${ticking.body.id}/terminate`);
    // The ticks that waited behind the slow jobs sat in the dispatch queue meanwhile.
    expect(backlog).toBeGreaterThan(0);
  });
});
