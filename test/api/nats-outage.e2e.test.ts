// The event log stops answering during a burst of run-nows: nats-server is frozen (SIGSTOP) for
// longer than the event store's read timeout, then thawed. Every request gets an answer the client
// can act on: 201, or 503 with Retry-After (never a 500); every job answered 201 ends; and a 503
// retried with its Idempotency-Key after the outage is accepted and ends, once.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitUntil } from '../../src/stack/process-control.ts';
import { ApiClient, startSystem, type TestSystem } from '../support/system.ts';

let system: TestSystem;
let user: ApiClient;
let endpoint: Server;
let hits = 0;

beforeAll(async () => {
  endpoint = createServer((_req, res) => {
    hits++;
    res.writeHead(200).end('ok');
  });
  await new Promise<void>((r) => endpoint.listen(0, '127.0.0.1', r));
  system = await startSystem();
  user = new ApiClient(system.baseUrl);
  await user.signUp('outage@example.com');
});

afterAll(async () => {
  system?.nats.thaw();
  await system?.dispose();
  endpoint?.close();
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('nats-server frozen during a burst of run-nows', () => {
  it('answers 201 or 503 with Retry-After, never 500; every accepted job ends', {
    timeout: 150_000,
  }, async () => {
    const created = await user.post<{ id: string }>('/workflows', {
      name: 'outage',
      kind: 'HEARTBEAT',
      payload: { endpoint: `http://127.0.0.1:${(endpoint.address() as AddressInfo).port}/` },
      interval: 60,
    });
    expect(created.status).toBe(201);
    const wf = created.body.id;

    const answers: {
      key: string;
      status: number;
      retryAfter: string | null;
      jobId?: string;
      code?: string;
    }[] = [];
    const runNow = async (key: string) => {
      const res = await user.post<{ job_id?: string; code?: string }>(
        `/workflows/${wf}/jobs/schedule`,
        undefined,
        {
          'Idempotency-Key': key,
        },
      );
      return {
        key,
        status: res.status,
        retryAfter: res.headers.get('retry-after'),
        ...(res.body?.job_id ? { jobId: res.body.job_id } : {}),
        ...(res.body?.code ? { code: res.body.code } : {}),
      };
    };
    const inFlight: Promise<void>[] = [];
    const started = Date.now();
    for (let i = 0; Date.now() - started < 24_000; i++) {
      if (i === 6) system.nats.freeze();
      if (Date.now() - started > 20_000) system.nats.thaw();
      inFlight.push(runNow(`burst-${i}`).then((a) => void answers.push(a)));
      await sleep(500);
    }
    system.nats.thaw();
    await Promise.all(inFlight);

    const statuses = answers.map((a) => a.status);
    expect(
      statuses.filter((s) => s !== 201 && s !== 503),
      JSON.stringify(answers),
    ).toEqual([]);
    const refused = answers.filter((a) => a.status === 503);
    expect(refused.length, 'the outage was met').toBeGreaterThan(0);
    for (const a of refused) {
      expect(a.retryAfter, JSON.stringify(a)).toMatch(/^\d+$/);
    }
    const accepted = answers.filter((a) => a.status === 201);
    expect(accepted.length).toBeGreaterThan(0);

    // Retried as Retry-After says, with the same key: accepted now.
    await sleep(2000);
    for (const a of refused) {
      const again = await runNow(a.key);
      expect(again.status, JSON.stringify(again)).toBe(201);
      accepted.push(again);
    }
    const ended = async (jobId: string) =>
      ['COMPLETED', 'FAILED', 'CANCELED'].includes(
        String((await user.get<{ status: string }>(`/workflows/${wf}/jobs/${jobId}`)).body.status),
      );
    await waitUntil(
      'every accepted job ended',
      async () => (await Promise.all(accepted.map((a) => ended(a.jobId!)))).every(Boolean),
      60_000,
    );
    const jobIds = new Set(accepted.map((a) => a.jobId));
    for (const id of jobIds) {
      expect((await user.get<{ status: string }>(`/workflows/${wf}/jobs/${id}`)).body.status).toBe(
        'COMPLETED',
      );
    }
    // Each key is one job, run once.
    expect(jobIds.size).toBe(answers.length);
    expect(hits).toBe(jobIds.size);
  });
});
