// `chronoverse all` on a private 3-node NATS cluster with R3 streams (issue 17): workflows fire every
// second and run-nows arrive every 200 ms while the nats-server that leads CV_EVENTS is SIGKILLed and,
// 10 s later, restarted on its store. Nothing is lost: every run-now answered 201 ends COMPLETED, and
// every request answered 503 is retried with its Idempotency-Key and ends too; every nominal second
// of every workflow is in its log exactly once (one JobScheduled or TickSkipped, none `missed`); each
// job hit its endpoint once; the read models equal a rebuild of the log. It reports how long the
// stream had no leader and how many requests failed during the fault.

import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { UnavailableError } from '../../src/errors.ts';
import { aggregateHistory } from '../../src/events/history.ts';
import { streamNames } from '../../src/events/stream-definitions.ts';
import { readCheckpoint } from '../../src/projections/checkpoint.ts';
import { rebuildProjection } from '../../src/projections/projection-batch.ts';
import { allProjections } from '../../src/projections/registry.ts';
import { openRuntime, type Runtime } from '../../src/runtime/runtime.ts';
import { waitUntil } from '../../src/stack/process-control.ts';
import { createLogger } from '../../src/telemetry/logger.ts';
import { startNatsCluster, type TestNatsCluster } from '../support/nats-cluster.ts';
import { freePort } from '../support/nats-server.ts';
import { dumpReadModels } from '../support/read-model-dump.ts';
import { type RoleProcess, startRole } from '../support/role-process.ts';
import { ApiClient } from '../support/system.ts';
import { createTestDatabases, type TestDatabases } from '../support/test-databases.ts';

const CRON_WORKFLOWS = 20;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

let cluster: TestNatsCluster;
let dbs: TestDatabases;
let runtime: Runtime;
let system: RoleProcess;
let endpoint: Server;
let base: string;
let keyDir: string;
let user: ApiClient;
let userId: string;
/** Requests the HEARTBEAT endpoint received, by path. */
const hits = new Map<string, number>();

beforeAll(async () => {
  endpoint = createServer((req, res) => {
    hits.set(req.url ?? '', (hits.get(req.url ?? '') ?? 0) + 1);
    res.writeHead(200).end('ok');
  });
  await new Promise<void>((r) => endpoint.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(endpoint.address() as AddressInfo).port}`;
  cluster = await startNatsCluster(3);
  keyDir = mkdtempSync(join(tmpdir(), 'cv-cluster-keys-'));
  const port = await freePort();
  dbs = await createTestDatabases({
    NATS_URL: cluster.url,
    CV_HTTP_PORT: String(port),
    CV_JWT_KEY_DIR: keyDir,
  });
  system = startRole('all', dbs.config, {
    CV_JWT_KEY_DIR: keyDir,
    CV_LOG_LEVEL: 'warn',
    CV_NATS_REPLICAS: '3',
  });
  await waitUntil('api up', async () => (await fetch(`http://127.0.0.1:${port}/healthz`)).ok, 60_000).catch(
    (err: unknown) => {
      throw new Error(`${String(err)}\n${system.output()}`);
    },
  );
  runtime = await openRuntime(dbs.config, 'test');
  user = new ApiClient(`http://127.0.0.1:${port}`);
  userId = await user.signUp('cluster@example.com');
});

afterAll(async () => {
  await system?.kill('SIGKILL');
  await runtime?.close();
  await dbs?.dispose();
  await cluster?.dispose();
  endpoint?.close();
  if (keyDir) rmSync(keyDir, { recursive: true, force: true });
});

type Answer = {
  key: string;
  status: number;
  jobId?: string;
  at: number;
  ms: number;
  retryAfter?: string | null;
};

describe('a 3-node NATS cluster with R3 streams', () => {
  it('loses nothing when the stream leader is SIGKILLed under load and restarted', {
    timeout: 180_000,
  }, async () => {
    const { jsm } = runtime.nats;
    for (const name of Object.values(streamNames)) {
      const info = await jsm.streams.info(name);
      expect(info.config.num_replicas, name).toBe(3);
      expect(info.cluster?.replicas ?? [], name).toHaveLength(2);
    }

    const cron: string[] = [];
    for (let i = 0; i < CRON_WORKFLOWS; i++) {
      const res = await user.post<{ id: string }>('/workflows', {
        name: `every second ${i}`,
        kind: 'HEARTBEAT',
        payload: { endpoint: `${base}/cron/${i}` },
        schedule: { cron: '* * * * * *', timezone: 'UTC' },
      });
      expect(res.status, JSON.stringify(res.body)).toBe(201);
      cron.push(res.body.id);
    }
    const manual = await user.post<{ id: string }>('/workflows', {
      name: 'run now',
      kind: 'HEARTBEAT',
      payload: { endpoint: `${base}/now` },
      interval: 3600,
    });
    expect(manual.status).toBe(201);
    const started = Date.now();

    // Run-nows every 200 ms for the whole run, each with its own key.
    const answers: Answer[] = [];
    const runNow = async (key: string): Promise<Answer> => {
      const at = Date.now();
      try {
        const res = await user.post<{ job_id?: string }>(
          `/workflows/${manual.body.id}/jobs/schedule`,
          undefined,
          {
            'Idempotency-Key': key,
          },
        );
        const ms = Date.now() - at;
        const retryAfter = res.headers.get('retry-after');
        return {
          key,
          status: res.status,
          at,
          ms,
          retryAfter,
          ...(res.body?.job_id ? { jobId: res.body.job_id } : {}),
        };
      } catch {
        return { key, status: 0, at, ms: Date.now() - at }; // no answer at all (refused or reset)
      }
    };
    let load = true;
    const inFlight: Promise<void>[] = [];
    const loader = (async () => {
      for (let i = 0; load; i++) {
        inFlight.push(runNow(`now-${i}`).then((a) => void answers.push(a)));
        await sleep(200);
      }
    })();

    await sleep(10_000);
    const leader = await cluster.leaderOf(jsm, streamNames.events);
    expect(leader).toBeDefined();
    const killedAt = Date.now();
    await cluster.node(leader!).stop('SIGKILL');
    // How long CV_EVENTS had no leader, as the JetStream API of the surviving nodes tells it.
    let newLeader: string | undefined;
    await waitUntil(
      'a new CV_EVENTS leader',
      async () => {
        newLeader = await cluster.leaderOf(jsm, streamNames.events).catch(() => undefined);
        return newLeader !== undefined && newLeader !== leader;
      },
      30_000,
    );
    const electedAfterMs = Date.now() - killedAt;
    await sleep(Math.max(0, 10_000 - (Date.now() - killedAt)));
    await cluster.node(leader!).start();
    const restartedAt = Date.now();
    await waitUntil(
      'the restarted node is current again',
      async () =>
        (await jsm.streams.info(streamNames.events)).cluster?.replicas?.some(
          (r) => r.name === leader && r.current,
        ) === true,
      30_000,
    );
    const caughtUpAfterMs = Date.now() - restartedAt;
    await sleep(5000);
    load = false;
    await loader;
    await Promise.all(inFlight);
    // Stop the ticks: pause every cron workflow; what was decided before the pause still ends.
    for (const id of cron) expect((await user.post(`/workflows/${id}/pause`)).status).toBe(200);
    const pausedAt = Date.now();

    // Every request got an answer a client can act on; those refused are retried with their key.
    const failed = answers.filter((a) => a.status !== 201);
    expect(
      failed.filter((a) => a.status !== 503 && a.status !== 0),
      JSON.stringify(failed),
    ).toEqual([]);
    const accepted = answers.filter((a) => a.status === 201);
    for (const a of failed) {
      const again = await runNow(a.key);
      expect(again.status, JSON.stringify(again)).toBe(201);
      accepted.push(again);
    }
    const jobStatus = async (jobId: string) =>
      String((await user.get<{ status: string }>(`/workflows/${manual.body.id}/jobs/${jobId}`)).body.status);
    await waitUntil(
      'every accepted run-now ended',
      async () =>
        (await Promise.all(accepted.map((a) => jobStatus(a.jobId!)))).every((s) =>
          ['COMPLETED', 'FAILED', 'CANCELED'].includes(s),
        ),
      60_000,
    );
    for (const a of accepted) expect(await jobStatus(a.jobId!), a.key).toBe('COMPLETED');
    const runNowJobs = new Set(accepted.map((a) => a.jobId));
    expect(runNowJobs.size, 'one job per key').toBe(answers.length);

    let historyReadRetries = 0;
    const readHistory = async (id: string) => {
      for (let attempt = 1; ; attempt++) {
        try {
          return await aggregateHistory(runtime.events, userId, 'workflow', id, { limit: 10_000 });
        } catch (err) {
          if (!(err instanceof UnavailableError) || attempt === 3) throw err;
          historyReadRetries++;
        }
      }
    };
    // Every nominal second of every cron workflow is in its log exactly once, none missed.
    const cronJobs = new Map<string, number>();
    for (const [i, id] of cron.entries()) {
      // A read that times out (seen once, 15 s, well after the fault) is retried as any caller would,
      // and counted in the figures: it is an outage to report, not a loss.
      const history = await readHistory(id);
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
      // No gap from the first tick to one well before the pause.
      const first = sorted[0]!;
      expect(first).toBeLessThan(started + 3000);
      const expected = Math.floor((pausedAt - 2000 - first) / 1000);
      const inRange = sorted.filter((t) => t <= first + expected * 1000);
      expect(inRange.length, `${id}: a gap`).toBe(expected + 1);
    }

    // Each job ran once: the endpoint's hits equal the jobs (no attempt is retried: it answers 200).
    await waitUntil(
      'every cron job ended',
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
    const jobs = await runtime.db.selectFrom('jobs').select(['workflow_id', 'status', 'attempt']).execute();
    expect(jobs.filter((j) => j.status !== 'COMPLETED' || j.attempt !== 1)).toEqual([]);
    expect(hits.get('/now')).toBe(runNowJobs.size);
    for (const [path, n] of cronJobs) expect(hits.get(path) ?? 0, path).toBe(n);

    // The read models, caught up, equal a rebuild of the log.
    const last = (await jsm.streams.info(streamNames.events)).state.last_seq;
    await waitUntil(
      'projector caught up',
      async () => (await readCheckpoint(runtime.db, 'read_models')) >= last,
      60_000,
    );
    expect(await system.kill('SIGTERM')).toBe(0);
    const live = await dumpReadModels(runtime.db);
    const deps = { nats: runtime.nats, db: runtime.db, log: createLogger('test', 'error') };
    for (const p of allProjections(runtime)) await rebuildProjection(deps, p);
    expect(await dumpReadModels(runtime.db)).toEqual(live);

    const duringFault = answers.filter((a) => a.at >= killedAt && a.at < restartedAt);
    console.log(
      JSON.stringify({
        killed: leader,
        new_leader: newLeader,
        leader_elected_after_ms: electedAfterMs,
        restarted_node_current_after_ms: caughtUpAfterMs,
        run_now_requests: answers.length,
        during_fault: duringFault.length,
        failed_during_fault: duringFault.filter((a) => a.status !== 201).length,
        failed_total: failed.length,
        failed_statuses: failed.map((a) => a.status),
        slowest_answer_during_fault_ms: Math.max(0, ...duringFault.map((a) => a.ms)),
        slowest_answer_before_fault_ms: Math.max(
          0,
          ...answers.filter((a) => a.at < killedAt).map((a) => a.ms),
        ),
        cron_jobs: [...cronJobs.values()].reduce((a, b) => a + b, 0),
        run_now_jobs: runNowJobs.size,
        history_read_retries: historyReadRetries,
      }),
    );
  });
});
