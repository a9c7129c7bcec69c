// Backfill over the API with the whole system: 100 past ticks of a one-second cron (before the
// workflow existed) run as BACKFILL jobs, one at a time under `buffer`; the same range asked again
// fires nothing; a range over the cap is a 422 naming it; a terminated workflow refuses with 409.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitUntil } from '../../src/stack/process-control.ts';
import { ApiClient, startSystem, type TestSystem } from '../support/system.ts';

let system: TestSystem;
let user: ApiClient;
let endpoint: Server;
let base: string;
let inFlight = 0;
let mostInFlight = 0;
const heard: string[] = [];

beforeAll(async () => {
  endpoint = createServer((req, res) => {
    inFlight++;
    mostInFlight = Math.max(mostInFlight, inFlight);
    heard.push(req.headers['x-tick'] ? String(req.headers['x-tick']) : (req.url ?? ''));
    setTimeout(() => {
      inFlight--;
      res.writeHead(200).end('ok');
    }, 20);
  });
  await new Promise<void>((r) => endpoint.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(endpoint.address() as AddressInfo).port}`;
  system = await startSystem({ CV_BACKFILL_MAX_TICKS: '150' });
  user = new ApiClient(system.baseUrl);
  await user.signUp('backfill@example.com');
});

afterAll(async () => {
  await system?.dispose();
  endpoint?.close();
});

type Started = { backfill_id: string; jobs: number; covered: number; job_ids: string[] };
type Progress = {
  id: string;
  jobs: number;
  covered: number;
  completed: number;
  pending: number;
  running: number;
};
type Job = { id: string; trigger: string; scheduled_at: string; backfill_id: string | null; status: string };

describe('POST /workflows/{id}/backfill', () => {
  it('runs 100 past ticks one at a time under buffer, and the same range again fires nothing', async () => {
    const created = await user.post<{ id: string }>('/workflows', {
      name: 'backfilled',
      kind: 'HEARTBEAT',
      payload: { endpoint: `${base}/backfill`, timeout: '10s' },
      schedule: { cron: '0 0 1 1 *', timezone: 'UTC' },
    });
    expect(created.status).toBe(201);
    const id = created.body.id;
    // Paused, so that the schedule's own fires do not reach the endpoint beside the backfill's (a
    // paused workflow can be backfilled); then every second (its past ticks are what is backfilled).
    expect((await user.post(`/workflows/${id}/pause`)).status).toBe(200);
    const reschedule = await user.request('PUT', `/workflows/${id}`, {
      body: { schedule: { cron: '* * * * * *', timezone: 'UTC' } },
    });
    expect(reschedule.status).toBe(200);
    const now = Math.floor(Date.now() / 1000) * 1000;
    const from = new Date(now - 300_000).toISOString();
    const to = new Date(now - 200_000).toISOString();

    const first = await user.post<Started>(`/workflows/${id}/backfill`, { from, to, overlap: 'buffer' });
    expect(first.status, JSON.stringify(first.body)).toBe(201);
    expect([first.body.jobs, first.body.covered]).toEqual([100, 0]);

    await waitUntil(
      'every backfilled job ended',
      async () => {
        const list = (await user.get<{ items: Progress[] }>(`/workflows/${id}/backfills`)).body.items;
        return list[0]?.completed === 100;
      },
      90_000,
    );
    // One at a time: the endpoint never had two of them at once, and heard each once.
    expect(mostInFlight).toBe(1);
    expect(heard.filter((h) => h === '/backfill')).toHaveLength(100);

    // Each job says what it is, its nominal time and the backfill it belongs to.
    const jobs = (await user.get<{ items: Job[] }>(`/workflows/${id}/jobs?trigger=BACKFILL&limit=100`)).body
      .items;
    expect(jobs).toHaveLength(100);
    expect(new Set(jobs.map((j) => j.scheduled_at)).size).toBe(100);
    expect(jobs.every((j) => j.backfill_id === first.body.backfill_id && j.status === 'COMPLETED')).toBe(
      true,
    );
    const times = jobs.map((j) => Date.parse(j.scheduled_at)).sort((a, b) => a - b);
    expect([times[0], times.at(-1)]).toEqual([Date.parse(from), Date.parse(to) - 1000]);

    // Asked again (a retried request): nothing fires twice.
    const again = await user.post<Started>(`/workflows/${id}/backfill`, { from, to });
    expect([again.status, again.body.jobs, again.body.backfill_id]).toEqual([201, 0, first.body.backfill_id]);
    // An overlapping range fires only its new ticks.
    const wider = await user.post<Started>(`/workflows/${id}/backfill`, {
      from,
      to: new Date(now - 190_000).toISOString(),
      overlap: 'allow',
    });
    expect([wider.body.jobs, wider.body.covered]).toEqual([10, 100]);
    // Recorded in the tick ledger (the read model follows the log shortly).
    await waitUntil(
      'the ledger holds every backfilled tick',
      async () => {
        const ledger = await user.get<{ items: { reason: string | null }[] }>(
          `/workflows/${id}/ticks?limit=1000`,
        );
        return ledger.body.items.filter((t) => t.reason === 'backfill').length === 110;
      },
      10_000,
    );

    // Over the cap (150 here): a 422 that states it. In the future: a 422. Terminated: a 409.
    const tooMany = await user.post<{ code: string; detail: string }>(`/workflows/${id}/backfill`, {
      from: new Date(now - 1_000_000).toISOString(),
      to,
    });
    expect([tooMany.status, tooMany.body.code]).toEqual([422, 'backfill_too_large']);
    expect(tooMany.body.detail).toContain('150');
    const future = await user.post<{ code: string }>(`/workflows/${id}/backfill`, {
      from: new Date(now - 5000).toISOString(),
      to: new Date(now + 60_000).toISOString(),
    });
    expect([future.status, future.body.code]).toEqual([422, 'backfill_in_future']);
    expect((await user.post(`/workflows/${id}/terminate`)).status).toBe(200);
    const refused = await user.post<{ code: string }>(`/workflows/${id}/backfill`, {
      from: new Date(now - 100_000).toISOString(),
      to: new Date(now - 90_000).toISOString(),
    });
    expect([refused.status, refused.body.code]).toEqual([409, 'workflow_terminated']);
  });
});
