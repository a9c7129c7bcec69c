// Second-level crons over the API, with the whole system (`chronoverse all`) in its default
// configuration (ticks decided up to 20 s ahead): a tick's overlap and a pause are judged when the
// tick is due. Four workflows share one run of ~24 s: every tick of an instant job fires; a 3-second
// job under `skip` fires every other tick and records the rest as overlap; under `queue_one` no two of
// its jobs run side by side; a pause records every tick until the resume as paused and runs none of
// them, though they had been decided ahead.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitUntil } from '../../src/stack/process-control.ts';
import { jitteredTime } from '../../src/workflows/jitter.ts';
import { ApiClient, startSystem, type TestSystem } from '../support/system.ts';

type Tick = {
  nominal_at: string;
  outcome: 'fired' | 'skipped';
  reason: string | null;
  job_id: string | null;
};

let system: TestSystem;
let user: ApiClient;
let endpoint: Server;
let base: string;
/** Arrival times of the endpoint's requests, by path. */
const hits = new Map<string, number[]>();

beforeAll(async () => {
  endpoint = createServer((req, res) => {
    const path = req.url ?? '';
    hits.set(path, [...(hits.get(path) ?? []), Date.now()]);
    const delay = path.startsWith('/slow') || path.startsWith('/queued') ? 3000 : 0;
    setTimeout(() => res.writeHead(200).end('ok'), delay);
  });
  await new Promise<void>((r) => endpoint.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(endpoint.address() as AddressInfo).port}`;
  system = await startSystem();
  user = new ApiClient(system.baseUrl);
  await user.signUp('sub-minute@example.com');
});

afterAll(async () => {
  await system?.dispose();
  endpoint?.close();
});

async function create(name: string, path: string, policies: Record<string, unknown>): Promise<string> {
  const res = await user.post<{ id: string }>('/workflows', {
    name,
    kind: 'HEARTBEAT',
    payload: { endpoint: `${base}${path}`, timeout: '10s' },
    schedule: { cron: '*/2 * * * * *', timezone: 'UTC' },
    ...policies,
  });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return res.body.id;
}

async function ledger(id: string): Promise<Tick[]> {
  const res = await user.get<{ items: Tick[] }>(`/workflows/${id}/ticks?limit=1000`);
  expect(res.status).toBe(200);
  return [...res.body.items].sort((a, b) => a.nominal_at.localeCompare(b.nominal_at));
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const outcome = (t: Tick) => (t.outcome === 'fired' ? 'fired' : `skipped:${t.reason}`);

describe('a 2-second cron under the default 20 s lookahead', () => {
  it('fires every tick of an instant job, every other tick of a 3 s job, and nothing while paused', async () => {
    const instant = await create('instant', '/instant', {});
    const slow = await create('slow', '/slow', { overlap_policy: 'skip' });
    const queued = await create('queued', '/queued', { overlap_policy: 'queue_one' });
    // `allow` lets the scheduler decide its ticks a full 20 s ahead: the pause has them to withdraw.
    const paused = await create('paused', '/paused', { overlap_policy: 'allow', catch_up: 'none' });
    const started = Date.now();

    await sleep(8000);
    expect((await user.post(`/workflows/${paused}/pause`)).status).toBe(200);
    const pausedAt = Date.now();
    await sleep(8000);
    const resumedAt = Date.now();
    expect((await user.post(`/workflows/${paused}/resume`)).status).toBe(200);
    await sleep(8000);

    // The ticks well inside the run: after the first had a chance to fire, and settled before the end.
    const inside = (from: number, to: number) => (t: Tick) => {
      const at = Date.parse(t.nominal_at);
      return at >= from && at <= to;
    };
    const window = inside(started + 3000, started + 20_000);

    const instantTicks = (await ledger(instant)).filter(window);
    expect(instantTicks.length).toBeGreaterThanOrEqual(8);
    expect(instantTicks.map(outcome)).toEqual(instantTicks.map(() => 'fired'));
    // Each of those fires hit the endpoint once (the first ticks of the run hit it too).
    expect(hits.get('/instant')?.length ?? 0).toBeGreaterThanOrEqual(instantTicks.length);

    const slowTicks = (await ledger(slow)).filter(window).map(outcome);
    expect(slowTicks.length).toBeGreaterThanOrEqual(8);
    // A 3 s job covers the next tick (2 s later) and has ended by the one after (4 s later).
    for (let i = 1; i < slowTicks.length; i++) {
      expect([slowTicks[i - 1], slowTicks[i]].sort(), slowTicks.join(' ')).toEqual([
        'fired',
        'skipped:overlap',
      ]);
    }

    // queue_one: a tick beside a running job fires, but its job waits for the running one to end.
    const queuedTicks = (await ledger(queued)).filter(window).map(outcome);
    expect(queuedTicks).toContain('fired');
    expect(queuedTicks).toContain('skipped:overlap');
    const queuedHits = hits.get('/queued') ?? [];
    expect(queuedHits.length).toBeGreaterThanOrEqual(4);
    for (let i = 1; i < queuedHits.length; i++) {
      expect(
        queuedHits[i]! - queuedHits[i - 1]!,
        'two queue_one jobs ran side by side',
      ).toBeGreaterThanOrEqual(2900);
    }

    const pauseTicks = await ledger(paused);
    const during = pauseTicks.filter(inside(pausedAt + 500, resumedAt - 500));
    expect(during.length).toBeGreaterThanOrEqual(3);
    expect(during.map(outcome)).toEqual(during.map(() => 'skipped:paused'));
    // Decided ahead or not, none of them ran: the endpoint heard nothing while the workflow was paused.
    const heardWhilePaused = (hits.get('/paused') ?? []).filter((t) => t > pausedAt + 500 && t < resumedAt);
    expect(heardWhilePaused).toEqual([]);
    // Before the pause and after the resume it fired every tick.
    expect(pauseTicks.filter(inside(started + 3000, pausedAt - 500)).map(outcome)).not.toContain(
      'skipped:paused',
    );
    const after = pauseTicks.filter(inside(resumedAt + 1000, started + 22_000));
    expect(after.length).toBeGreaterThanOrEqual(2);
    expect(after.map(outcome)).toEqual(after.map(() => 'fired'));
    // Every nominal tick of the run is in each ledger once: two seconds apart, no gap, no repeat.
    for (const id of [instant, slow, queued, paused]) {
      const times = (await ledger(id)).filter(window).map((t) => Date.parse(t.nominal_at));
      expect(times.slice(1).map((t, i) => t - times[i]!)).toEqual(times.slice(1).map(() => 2000));
    }
  });

  it('fires a jittered workflow at its nominal time plus its offset, keeping both, in the preview too', async () => {
    // Jitter up to the schedule's gap (4 s); more is refused, naming the gap.
    const tooMuch = await user.post<{ code: string; detail: string }>('/workflows', {
      name: 'too much jitter',
      kind: 'HEARTBEAT',
      payload: { endpoint: `${base}/never` },
      schedule: { cron: '*/4 * * * * *', timezone: 'UTC' },
      jitter_seconds: 5,
    });
    expect([tooMuch.status, JSON.stringify(tooMuch.body)]).toEqual([422, expect.stringContaining('(4 s)')]);
    const res = await user.post<{ id: string }>('/workflows', {
      name: 'jittered',
      kind: 'HEARTBEAT',
      payload: { endpoint: `${base}/jittered`, timeout: '10s' },
      schedule: { cron: '*/4 * * * * *', timezone: 'UTC' },
      jitter_seconds: 4,
      overlap_policy: 'allow',
    });
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    const id = res.body.id;
    const preview = await user.get<{ items: { at: string; nominal: string }[] }>(
      `/workflows/${id}/schedule/preview?count=5`,
    );
    for (const p of preview.body.items) expect(p.at).toBe(jitteredTime(id, p.nominal, 4));
    await sleep(14_000);
    const fired = (await ledger(id)).filter((t) => t.outcome === 'fired');
    expect(fired.length).toBeGreaterThanOrEqual(2);
    type Job = { id: string; scheduled_at: string; fire_at: string | null; started_at: string | null };
    // A tick and its job are two commits (the job is created by a reactor after the tick): the read
    // models may hold a tick fired a moment ago before its job.
    let jobs: Job[] = [];
    await waitUntil(
      'the fired ticks’ jobs in the read models',
      async () => {
        jobs = (await user.get<{ items: Job[] }>(`/workflows/${id}/jobs?limit=100`)).body.items;
        return fired.every((t) => jobs.some((j) => j.id === t.job_id));
      },
      5000,
    );
    const arrivals = hits.get('/jittered') ?? [];
    for (const tick of fired as (Tick & { fire_at: string | null })[]) {
      const fireAt = jitteredTime(id, tick.nominal_at, 4);
      // Every replica and restart computes the same offset; the ledger and the job keep both times.
      expect(tick.fire_at).toBe(fireAt);
      const job = jobs.find((j) => j.id === tick.job_id);
      expect(job).toMatchObject({ scheduled_at: tick.nominal_at, fire_at: fireAt });
      if (job?.started_at) expect(Date.parse(job.started_at)).toBeGreaterThanOrEqual(Date.parse(fireAt));
    }
    // The endpoint heard each fire at its jittered time, not at its nominal one (within 1.5 s).
    const firedAt = fired.map((t) => Date.parse(jitteredTime(id, t.nominal_at, 4)));
    for (const at of firedAt.filter((t) => t < Date.now() - 2000)) {
      expect(
        arrivals.some((a) => a >= at && a < at + 1500),
        `a request at ${new Date(at).toISOString()}`,
      ).toBe(true);
    }
    await user.post(`/workflows/${id}/terminate`);
  });
});
