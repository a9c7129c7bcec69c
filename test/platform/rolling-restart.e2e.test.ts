// An upgrade with no lost tick (issue 17): every role runs twice as its own process (two APIs, two
// schedulers, two projectors, two executors) while workflows fire every second and run-nows arrive
// every 200 ms, alternating between the APIs; then each process is restarted in turn (SIGTERM, wait
// for its exit, start a new one, wait until it is up) as a rolling deploy does. Nothing is lost: each
// stop drains with exit code 0, every run-now is answered (a client whose API is restarting turns to
// the other with the same Idempotency-Key) and ends COMPLETED once, every nominal second of every
// workflow is in its log exactly once with none missed, each job hit its endpoint once, and the read
// models equal a rebuild of the log.
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { aggregateHistory } from '../../src/events/history.ts';
import { streamNames } from '../../src/events/stream-definitions.ts';
import { readCheckpoint } from '../../src/projections/checkpoint.ts';
import { rebuildProjection } from '../../src/projections/projection-batch.ts';
import { allProjections } from '../../src/projections/registry.ts';
import { openRuntime, type Runtime } from '../../src/runtime/runtime.ts';
import { waitUntil } from '../../src/stack/process-control.ts';
import { createLogger } from '../../src/telemetry/logger.ts';
import { freePort, startNatsServer, type TestNatsServer } from '../support/nats-server.ts';
import { dumpReadModels } from '../support/read-model-dump.ts';
import { type RoleProcess, startRole } from '../support/role-process.ts';
import { ApiClient } from '../support/system.ts';
import { createTestDatabases, type TestDatabases } from '../support/test-databases.ts';

const CRON_WORKFLOWS = 8;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** One replica of a role: how to start it, how to know it is up. */
interface Replica {
  readonly role: 'api' | 'scheduler' | 'projector' | 'executor';
  readonly env: Record<string, string>;
  readonly port?: number;
  process?: RoleProcess;
}

let nats: TestNatsServer;
let dbs: TestDatabases;
let runtime: Runtime;
let endpoint: Server;
let base: string;
let keyDir: string;
const replicas: Replica[] = [];
const hits = new Map<string, number>();

const upLine: Record<Replica['role'], string> = {
  api: 'api listening',
  scheduler: 'scheduler started',
  projector: 'projector started',
  executor: 'executor started',
};

async function start(replica: Replica): Promise<void> {
  replica.process = startRole(replica.role, dbs.config, {
    CV_JWT_KEY_DIR: keyDir,
    CV_LOG_LEVEL: 'info',
    ...replica.env,
  });
  await replica.process.waitFor(upLine[replica.role], 90_000);
  if (replica.port !== undefined) {
    const url = `http://127.0.0.1:${replica.port}/readyz`;
    await waitUntil(
      `${replica.role} ready`,
      async () => (await fetch(url).catch(() => undefined))?.ok === true,
      30_000,
    );
  }
}

beforeAll(async () => {
  endpoint = createServer((req, res) => {
    hits.set(req.url ?? '', (hits.get(req.url ?? '') ?? 0) + 1);
    res.writeHead(200).end('ok');
  });
  await new Promise<void>((r) => endpoint.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(endpoint.address() as AddressInfo).port}`;
  nats = await startNatsServer();
  keyDir = mkdtempSync(join(tmpdir(), 'cv-rolling-keys-'));
  const [portA, portB] = [await freePort(), await freePort()];
  dbs = await createTestDatabases({
    NATS_URL: nats.url,
    CV_HTTP_PORT: String(portA),
    CV_JWT_KEY_DIR: keyDir,
  });
  replicas.push(
    { role: 'api', env: { CV_HTTP_PORT: String(portA) }, port: portA },
    { role: 'api', env: { CV_HTTP_PORT: String(portB) }, port: portB },
    { role: 'scheduler', env: {} },
    { role: 'scheduler', env: {} },
    { role: 'projector', env: {} },
    { role: 'projector', env: {} },
    { role: 'executor', env: { CV_EXECUTOR_ID: 'rolling-1' } },
    { role: 'executor', env: { CV_EXECUTOR_ID: 'rolling-2' } },
  );
  // The first API migrates alone; the others start together once the schema is there.
  await start(replicas[0]!);
  await Promise.all(replicas.slice(1).map(start));
  runtime = await openRuntime(dbs.config, 'test');
}, 240_000);

afterAll(async () => {
  await Promise.all(replicas.map((r) => r.process?.kill('SIGKILL')));
  await runtime?.close();
  await dbs?.dispose();
  await nats?.dispose();
  endpoint?.close();
  if (keyDir) rmSync(keyDir, { recursive: true, force: true });
});

type Answer = { key: string; status: number; jobId?: string; turnedAway: number };

describe('a rolling restart of every role under load', () => {
  it('loses no tick, runs no job twice and leaves the read models equal to a rebuild', {
    timeout: 300_000,
  }, async () => {
    const apis = replicas
      .filter((r) => r.role === 'api')
      .map((r) => new ApiClient(`http://127.0.0.1:${r.port}`));
    const userId = await apis[0]!.signUp('rolling@example.com');
    for (const api of apis) api.token = apis[0]!.token;

    const cron: string[] = [];
    for (let i = 0; i < CRON_WORKFLOWS; i++) {
      const res = await apis[0]!.post<{ id: string }>('/workflows', {
        name: `every second ${i}`,
        kind: 'HEARTBEAT',
        payload: { endpoint: `${base}/cron/${i}` },
        schedule: { cron: '* * * * * *', timezone: 'UTC' },
      });
      expect(res.status, JSON.stringify(res.body)).toBe(201);
      cron.push(res.body.id);
    }
    const manual = await apis[0]!.post<{ id: string }>('/workflows', {
      name: 'run now',
      kind: 'HEARTBEAT',
      payload: { endpoint: `${base}/now` },
      interval: 3600,
    });
    expect(manual.status).toBe(201);
    const started = Date.now();

    // A run-now goes to one API; refused at the socket (it is restarting), to the other, same key.
    const answers: Answer[] = [];
    const runNow = async (key: string, first: number): Promise<Answer> => {
      let turnedAway = 0;
      for (let i = 0; ; i++) {
        const api = apis[(first + i) % apis.length]!;
        try {
          const res = await api.post<{ job_id?: string }>(
            `/workflows/${manual.body.id}/jobs/schedule`,
            undefined,
            {
              'Idempotency-Key': key,
            },
          );
          if (res.status === 503 && i < 20) {
            turnedAway++;
            continue;
          }
          return {
            key,
            status: res.status,
            turnedAway,
            ...(res.body?.job_id ? { jobId: res.body.job_id } : {}),
          };
        } catch {
          turnedAway++;
          if (i >= 20) return { key, status: 0, turnedAway };
          await sleep(50);
        }
      }
    };
    let load = true;
    const inFlight: Promise<void>[] = [];
    const loader = (async () => {
      for (let i = 0; load; i++) {
        inFlight.push(runNow(`now-${i}`, i).then((a) => void answers.push(a)));
        await sleep(200);
      }
    })();

    await sleep(5_000);
    const exits: { role: string; code: number | null; stopMs: number }[] = [];
    for (const replica of replicas) {
      const t0 = Date.now();
      const code = await replica.process!.kill('SIGTERM');
      exits.push({ role: replica.role, code, stopMs: Date.now() - t0 });
      await start(replica);
      await sleep(1_000);
    }
    await sleep(5_000);
    load = false;
    await loader;
    await Promise.all(inFlight);
    for (const id of cron) expect((await apis[0]!.post(`/workflows/${id}/pause`)).status).toBe(200);
    const pausedAt = Date.now();

    expect(
      exits.filter((e) => e.code !== 0),
      JSON.stringify(exits),
    ).toEqual([]);
    expect(answers.filter((a) => a.status !== 201)).toEqual([]);
    const jobStatus = async (jobId: string) =>
      String(
        (await apis[1]!.get<{ status: string }>(`/workflows/${manual.body.id}/jobs/${jobId}`)).body.status,
      );
    await waitUntil(
      'every run-now ended',
      async () =>
        (await Promise.all(answers.map((a) => jobStatus(a.jobId!)))).every((s) =>
          ['COMPLETED', 'FAILED', 'CANCELED'].includes(s),
        ),
      60_000,
    );
    for (const a of answers) expect(await jobStatus(a.jobId!), a.key).toBe('COMPLETED');
    const runNowJobs = new Set(answers.map((a) => a.jobId));
    expect(runNowJobs.size, 'one job per key').toBe(answers.length);

    // Every nominal second of every workflow is in its log exactly once, none missed, no gap.
    const cronJobs = new Map<string, number>();
    for (const [i, id] of cron.entries()) {
      const history = await aggregateHistory(runtime.events, userId, 'workflow', id, { limit: 10_000 });
      const nominals: number[] = [];
      for (const { event } of history.entries) {
        if (event.type === 'JobScheduled') {
          nominals.push(Date.parse((event.data as { scheduled_at: string }).scheduled_at));
          cronJobs.set(`/cron/${i}`, (cronJobs.get(`/cron/${i}`) ?? 0) + 1);
        } else if (event.type === 'TickSkipped') {
          const { nominal_at, reason } = event.data as { nominal_at: string; reason: string };
          nominals.push(Date.parse(nominal_at));
          expect(reason, `${id} ${nominal_at}`).not.toBe('missed');
        }
      }
      expect(new Set(nominals).size, `${id}: a nominal time twice`).toBe(nominals.length);
      const sorted = [...nominals].sort((a, b) => a - b);
      const first = sorted[0]!;
      expect(first).toBeLessThan(started + 3000);
      const expected = Math.floor((pausedAt - 2000 - first) / 1000);
      expect(sorted.filter((t) => t <= first + expected * 1000).length, `${id}: a gap`).toBe(expected + 1);
    }

    await waitUntil(
      'every job ended',
      async () =>
        (
          await runtime.db
            .selectFrom('jobs')
            .select('id')
            .where('status', 'not in', ['COMPLETED', 'FAILED', 'CANCELED'])
            .execute()
        ).length === 0,
      60_000,
    );
    const jobs = await runtime.db.selectFrom('jobs').select(['status', 'attempt']).execute();
    expect(jobs.filter((j) => j.status !== 'COMPLETED' || j.attempt !== 1)).toEqual([]);
    expect(hits.get('/now')).toBe(runNowJobs.size);
    for (const [path, n] of cronJobs) expect(hits.get(path) ?? 0, path).toBe(n);

    const last = (await runtime.nats.jsm.streams.info(streamNames.events)).state.last_seq;
    await waitUntil(
      'projectors caught up',
      async () => (await readCheckpoint(runtime.db, 'read_models')) >= last,
      60_000,
    );
    await Promise.all(replicas.map((r) => r.process?.kill('SIGTERM')));
    const live = await dumpReadModels(runtime.db);
    const deps = { nats: runtime.nats, db: runtime.db, log: createLogger('test', 'error') };
    for (const p of allProjections(runtime)) await rebuildProjection(deps, p);
    expect(await dumpReadModels(runtime.db)).toEqual(live);

    console.log(
      JSON.stringify({
        restarts: exits,
        run_now_requests: answers.length,
        turned_away_then_answered_by_the_other_api: answers.filter((a) => a.turnedAway > 0).length,
        cron_jobs: [...cronJobs.values()].reduce((a, b) => a + b, 0),
        run_now_jobs: runNowJobs.size,
      }),
    );
  });
});
