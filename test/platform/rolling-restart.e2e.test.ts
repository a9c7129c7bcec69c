// An upgrade with no lost tick, and role processes killed (issue 17), on a 3-node NATS cluster with
// R3 streams: every role runs twice as its own process (two APIs, two schedulers, two projectors, two
// executors) while workflows fire every second and run-nows arrive every 200 ms, alternating between
// the APIs. First each process is restarted in turn (SIGTERM, wait for its exit, start a new one, wait
// until it is up) as a rolling deploy does; then one projector and one executor are SIGKILLed together,
// their twins carry on, and they are started again. Nothing is lost: each SIGTERM drains with exit
// code 0, every run-now is answered (a client whose API is restarting turns to the other with the same
// Idempotency-Key) and ends COMPLETED once, every nominal second of every workflow is in its log
// exactly once with none missed, each job hit its endpoint once (an attempt the killed executor held
// is failed executor_lost and retried), and the read models equal a rebuild of the log
// (test/support/load-under-fault.ts).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openRuntime, type Runtime } from '../../src/runtime/runtime.ts';
import { waitUntil } from '../../src/stack/process-control.ts';
import { checkNothingLost, type RunNow, startWorkload } from '../support/load-under-fault.ts';
import { startNatsCluster, type TestNatsCluster } from '../support/nats-cluster.ts';
import { freePort } from '../support/nats-server.ts';
import { type RoleProcess, startRole } from '../support/role-process.ts';
import { ApiClient } from '../support/system.ts';
import { type CountingEndpoint, startCountingEndpoint } from '../support/system-on-cluster.ts';
import { createTestDatabases, type TestDatabases } from '../support/test-databases.ts';

// CV_TEST_ROLLING_WORKFLOWS sets the number of per-second workflows (default 8; 200 for the figures in docs/deployment.md).
const CRON_WORKFLOWS = Number(process.env.CV_TEST_ROLLING_WORKFLOWS ?? 8);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const testStart = Date.now();
/** Where the test is, on stderr: a run that stalls says at which step. */
const step = (what: string) =>
  console.error(`[rolling ${((Date.now() - testStart) / 1000).toFixed(1)} s] ${what}`);

/** One replica of a role: how to start it, how to know it is up. */
interface Replica {
  readonly role: 'api' | 'scheduler' | 'projector' | 'executor';
  readonly env: Record<string, string>;
  readonly port?: number;
  process?: RoleProcess;
}

let cluster: TestNatsCluster;
let dbs: TestDatabases;
let runtime: Runtime;
let endpoint: CountingEndpoint;
let keyDir: string;
const replicas: Replica[] = [];

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
    CV_NATS_REPLICAS: '3',
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
  endpoint = await startCountingEndpoint();
  cluster = await startNatsCluster(3);
  keyDir = mkdtempSync(join(tmpdir(), 'cv-rolling-keys-'));
  const [portA, portB] = [await freePort(), await freePort()];
  dbs = await createTestDatabases({
    NATS_URL: cluster.url,
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
    // A dispatch held by a killed executor is delivered again after this long; its restart (same id)
    // fails what it held at once anyway.
    { role: 'executor', env: { CV_EXECUTOR_ID: 'rolling-1', CV_DISPATCH_ACK_WAIT_SECONDS: '10' } },
    { role: 'executor', env: { CV_EXECUTOR_ID: 'rolling-2', CV_DISPATCH_ACK_WAIT_SECONDS: '10' } },
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
  await cluster?.dispose();
  endpoint?.close();
  if (keyDir) rmSync(keyDir, { recursive: true, force: true });
});

describe('a rolling restart of every role, then a projector and an executor killed, on a 3-node cluster', () => {
  it('loses no tick, runs no job twice and leaves the read models equal to a rebuild', {
    // 200 workflows (the figures in docs/deployment.md) take minutes to create and to check.
    timeout: CRON_WORKFLOWS > 50 ? 900_000 : 300_000,
  }, async () => {
    const apis = replicas
      .filter((r) => r.role === 'api')
      .map((r) => new ApiClient(`http://127.0.0.1:${r.port}`));
    const userId = await apis[0]!.signUp('rolling@example.com');
    for (const api of apis) api.token = apis[0]!.token;

    // A run-now goes to one API; refused at the socket or 503 (it is restarting), to the other, same key.
    let turnedAwayThenAnswered = 0;
    const alternating =
      (workflowId: string): RunNow =>
      async (key, first) => {
        const at = Date.now();
        let turnedAway = 0;
        for (let i = 0; ; i++) {
          const api = apis[(first + i) % apis.length]!;
          try {
            const res = await api.post<{ job_id?: string }>(
              `/workflows/${workflowId}/jobs/schedule`,
              undefined,
              {
                'Idempotency-Key': key,
              },
            );
            if (res.status === 503 && i < 20) {
              turnedAway++;
              continue;
            }
            if (turnedAway > 0) turnedAwayThenAnswered++;
            return {
              key,
              status: res.status,
              at,
              ms: Date.now() - at,
              ...(res.body?.job_id ? { jobId: res.body.job_id } : {}),
            };
          } catch {
            turnedAway++;
            if (i >= 20) return { key, status: 0, at, ms: Date.now() - at };
            await sleep(50);
          }
        }
      };
    const workload = await startWorkload(apis[0]!, endpoint.base, CRON_WORKFLOWS, alternating);

    await sleep(3_000);
    const exits: { role: string; code: number | null; stopMs: number }[] = [];
    for (const replica of replicas) {
      const t0 = Date.now();
      const process = replica.process!;
      const code = await Promise.race([
        process.kill('SIGTERM'),
        sleep(30_000).then(() => {
          throw new Error(
            `${replica.role} did not exit within 30 s of SIGTERM:\n${process.output().slice(-6000)}`,
          );
        }),
      ]);
      exits.push({ role: replica.role, code, stopMs: Date.now() - t0 });
      step(`${replica.role} stopped (${code}); starting it again`);
      await start(replica);
      await sleep(500);
    }
    expect(
      exits.filter((e) => e.code !== 0),
      JSON.stringify(exits),
    ).toEqual([]);

    // SIGKILL: one of the two projectors and one of the two executors at once; the others carry on.
    await sleep(1_000);
    const killed = [
      replicas.find((r) => r.role === 'projector')!,
      replicas.find((r) => r.role === 'executor')!,
    ];
    await Promise.all(killed.map((r) => r.process!.kill('SIGKILL')));
    step('a projector and an executor SIGKILLed');
    await sleep(5_000);
    for (const replica of killed) await start(replica);
    await sleep(3_000);

    step('killed ones started again; stopping the load');
    const answers = await workload.stop();
    step(`load stopped: ${answers.length} run-nows`);
    expect(answers.filter((a) => a.status !== 201)).toEqual([]);
    const checked = await checkNothingLost({
      user: apis[1]!,
      runtime,
      userId,
      workload,
      answers,
      runNow: alternating(workload.manualId),
      hits: endpoint.hits,
      executorKilled: true,
      settle: async () => void (await Promise.all(replicas.map((r) => r.process?.kill('SIGTERM')))),
    });

    console.log(
      JSON.stringify({
        cron_workflows: CRON_WORKFLOWS,
        restarts: exits,
        run_now_requests: answers.length,
        turned_away_then_answered_by_the_other_api: turnedAwayThenAnswered,
        cron_jobs: checked.cronJobs,
        run_now_jobs: checked.runNowJobs,
        skipped_ticks: checked.skippedTicks,
        withdrawn_ticks: checked.withdrawnTicks,
        jobs_retried_after_the_executor_kill: checked.retriedJobs,
      }),
    );
  });
});
