// Store faults under load (issue 14, item 1), shared by the e2e tests (test/platform/store-faults-*.e2e.test.ts,
// small loads, short outages) and the soak (bench/chaos.ts, heavier load, 30 s outages).
//
// A world is one store of the test's own (private-stores.ts; for NATS, the system's private
// nats-server) and `chronoverse all` on it, everything else on the shared stack. A fault run:
//   1. creates its workflows: per-second crons (HEARTBEAT to an endpoint in this process, CONTAINER
//      writing a few log lines), a workflow for run-nows, and optionally a CONTAINER run-now that is
//      still running when the fault comes;
//   2. loads the system: run-nows with an Idempotency-Key at a fixed rate (and a few without one,
//      where the log stays up), /readyz polled throughout;
//   3. injects the fault: `restart` is SIGKILL then start again at once, `stop` a clean stop, the
//      store kept down for `outageMs`, then started again (same address, same data); before the store
//      comes back, /readyz must have named it;
//   4. keeps the load on for `tailMs`, retries every refused run-now with its key, terminates its
//      workflows, and waits for every job to end and the projections and the log processor to drain;
//   5. reports what happened (answers by status, ticks and their lateness, recovery times) and
//      checks the invariants, each violation a sentence (the tests expect none; the soak lists them).

import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { ClickHouseClient } from '@clickhouse/client';
import type { Kysely } from 'kysely';
import { EventStore, type StoredCommit } from '../../src/events/event-store.ts';
import { streamNames } from '../../src/events/stream-definitions.ts';
import { eventSubject } from '../../src/events/subjects.ts';
import { connectClickhouse } from '../../src/infra/clickhouse-connection.ts';
import { quoteList } from '../../src/infra/clickhouse-literal.ts';
import type { Database } from '../../src/infra/database.ts';
import { connectNats, type Nats } from '../../src/infra/nats-connection.ts';
import { connectPostgres } from '../../src/infra/postgres-connection.ts';
import { LOG_PROCESSOR } from '../../src/logs/log-processor.ts';
import { readCheckpoint } from '../../src/projections/checkpoint.ts';
import { countJobEvents } from '../../src/projections/clickhouse-job-events.ts';
import { rebuildProjection } from '../../src/projections/projection-batch.ts';
import { allProjections } from '../../src/projections/registry.ts';
import { sleep, waitUntil } from '../../src/stack/process-control.ts';
import { createLogger } from '../../src/telemetry/logger.ts';
import {
  natsStore,
  type PrivateStore,
  type StoreKind,
  startPrivateClickhouse,
  startPrivateDocker,
  startPrivatePostgres,
} from './private-stores.ts';
import { dumpReadModels } from './read-model-dump.ts';
import { ApiClient, startSystem, type TestSystem } from './system.ts';

export const TEST_IMAGE = 'chronoverse/busybox:local';
/** Ticks later than this after an outage follow the catch-up policy (CV_SCHEDULER_GRACE_SECONDS). */
export const GRACE_SECONDS = 2;
/** The reactors' ack wait (10 s, `ReactorRunner`) and the nak backoff after it, with a wide margin. */
const REDELIVERY_BOUND_MS = 60_000;

export interface ChaosWorld {
  readonly kind: StoreKind;
  readonly system: TestSystem;
  readonly store: PrivateStore;
  readonly user: ApiClient;
  readonly userId: string;
  /** This process's own connections to the system's stores, to read the log and the read models. */
  readonly nats: Nats;
  readonly events: EventStore;
  readonly db: Kysely<Database>;
  readonly clickhouse: ClickHouseClient;
  /** Base URL of the HEARTBEAT endpoint (in this process). */
  readonly endpoint: string;
  /** Requests the endpoint received, by path. */
  readonly hits: Map<string, number>;
  dispose(): Promise<void>;
}

/** A private store of `kind` and the whole system on it (the other stores are the shared stack's). */
export async function startChaosWorld(
  kind: StoreKind,
  env: Record<string, string> = {},
): Promise<ChaosWorld> {
  const hits = new Map<string, number>();
  const server: Server = createServer((req, res) => {
    hits.set(req.url ?? '', (hits.get(req.url ?? '') ?? 0) + 1);
    res.writeHead(200).end('ok');
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const systemEnv = {
    CV_SCHEDULER_GRACE_SECONDS: String(GRACE_SECONDS),
    CV_HEARTBEAT_ALLOWED_NETWORKS: '127.0.0.0/8',
    CV_SIGNUP_LIMIT_PER_HOUR: '1000000',
    CV_EXECUTOR_CONCURRENCY: '8',
    ...env,
  };
  let store: PrivateStore | undefined;
  let system: TestSystem;
  try {
    if (kind === 'nats') {
      system = await startSystem(systemEnv);
      store = natsStore(system.nats);
    } else {
      store =
        kind === 'postgres'
          ? await startPrivatePostgres()
          : kind === 'clickhouse'
            ? await startPrivateClickhouse()
            : await startPrivateDocker();
      system = await startSystem(systemEnv, 'all', store.env);
    }
  } catch (err) {
    await store?.dispose();
    server.close();
    throw err;
  }
  const config = system.dbs.config;
  const nats = await connectNats(system.nats.url, 'chaos-test');
  const db = connectPostgres(config.DATABASE_URL, 4);
  const clickhouse = connectClickhouse({
    url: config.CLICKHOUSE_URL,
    database: config.CLICKHOUSE_DATABASE,
    username: config.CLICKHOUSE_USER,
    password: config.CLICKHOUSE_PASSWORD,
  });
  const user = new ApiClient(system.baseUrl);
  const userId = await user.signUp(`chaos-${kind}@example.com`);
  const s = store;
  let disposed: Promise<void> | undefined;
  const world: ChaosWorld = {
    kind,
    system,
    store: s,
    user,
    userId,
    nats,
    events: new EventStore(nats.js, nats.jsm),
    db,
    clickhouse,
    endpoint,
    hits,
    dispose() {
      open.delete(world);
      disposed ??= (async () => {
        // A store left down by a failed run comes back first, so that the databases can be dropped.
        if (!(await s.isUp())) await s.start().catch(() => {});
        await nats.nc.close().catch(() => {});
        await db.destroy().catch(() => {});
        await clickhouse.close().catch(() => {});
        await system.dispose();
        if (kind !== 'nats') await s.dispose();
        server.close();
      })();
      return disposed;
    },
  };
  open.add(world);
  return world;
}

const open = new Set<ChaosWorld>();

/** Disposes every world still open (the soak, interrupted: its private servers must not outlive it). */
export async function disposeOpenChaosWorlds(): Promise<void> {
  await Promise.all([...open].map((w) => w.dispose()));
}

export type FaultKind = 'restart' | 'stop';

export interface FaultPlan {
  readonly fault: FaultKind;
  /** `stop`: how long the store stays down. `restart` starts it again at once. */
  readonly outageMs: number;
  /** Load before the fault and after the store is back. */
  readonly leadMs: number;
  readonly tailMs: number;
  readonly runNowsPerSecond: number;
  /** Run-nows without an Idempotency-Key, per second (only where the event log stays up). */
  readonly keylessPerSecond: number;
  readonly heartbeatWorkflows: number;
  readonly containerWorkflows: number;
  /** Log lines each CONTAINER tick writes. */
  readonly linesPerJob: number;
  /** A CONTAINER run-now running when the fault comes (its container lives this long). */
  readonly longJobSeconds?: number;
}

interface Answer {
  key: string | undefined;
  workflowId: string;
  sentAt: number;
  answeredAt: number;
  status: number;
  retryAfter: string | null;
  jobId?: string;
  code?: string;
}

interface ReadySample {
  at: number;
  status: number;
  down: string[];
}

interface Tick {
  nominal: number;
  /** `fired`, or the skip reason. */
  outcome: string;
  /** When it was decided (the commit's time). */
  decidedAt: number;
  /** Decided ahead, then withdrawn: decided again later, so this decision does not count. */
  withdrawn: boolean;
}

export interface FaultRun {
  readonly plan: FaultPlan;
  readonly kind: StoreKind;
  readonly times: {
    start: number;
    fault: number;
    down: number;
    namedDown: number | undefined;
    up: number;
    /** When the run's workflows were terminated (the end of their ticks). */
    terminated: number;
    end: number;
  };
  readonly answers: Answer[];
  /** Run-nows not sent because 64 were already waiting for their answer. */
  readonly heldBack: number;
  readonly retried: Answer[];
  readonly readiness: ReadySample[];
  /** Answers of requests made while the store was down that only read (ClickHouse: a job's log). */
  readonly readsDuringOutage: Answer[];
  readonly workflows: {
    heartbeat: string[];
    container: string[];
    runNow: string;
    keyless: string;
    long?: string;
    /** The Docker engine stopped: a CONTAINER workflow run once while the engine is down. */
    waiter?: string;
  };
  readonly longJobId: string | undefined;
  /** Its job. */
  readonly waiterJobId?: string;
  readonly recovery: Record<string, number | undefined>;
  readonly processAlive: boolean;
  readonly output: string;
}

export interface FaultReport {
  store: StoreKind;
  fault: FaultKind;
  down_ms: number;
  requests: {
    sent: number;
    /** Not sent: 64 were already waiting for their answer. */
    held_back: number;
    by_status: Record<string, number>;
    /** How long the answers took, by status. */
    latency_ms: Record<string, { p50: number; p99: number; max: number }>;
    failed: number;
    retried_after_recovery: number;
    retried_accepted: number;
  };
  ticks: {
    total: number;
    by_outcome: Record<string, number>;
    late_max_ms: number;
    late_p99_ms: number;
  };
  jobs: { total: number; by_status: Record<string, number>; system_failures: number };
  log_lines: { expected: number; stored: number } | undefined;
  recovery_ms: Record<string, number | undefined>;
  violations: string[];
}

const log = createLogger('chaos', 'error');

async function createWorkflow(world: ChaosWorld, body: Record<string, unknown>): Promise<string> {
  for (let attempt = 0; ; attempt++) {
    const res = await world.user.post<{ id: string }>('/workflows', body);
    if (res.status === 201) return res.body.id;
    if (attempt > 20 || res.status !== 503)
      throw new Error(`create: ${res.status} ${JSON.stringify(res.body)}`);
    await sleep(1000);
  }
}

const perSecond = { schedule: { cron: '* * * * * *', timezone: 'UTC' }, catch_up: 'latest' };

/** A run-now that must be accepted; its job's id. */
async function runNowOnce(user: ChaosWorld['user'], workflowId: string, key: string): Promise<string> {
  const res = await user.post<{ job_id: string }>(`/workflows/${workflowId}/jobs/schedule`, undefined, {
    'Idempotency-Key': key,
  });
  if (res.status !== 201) throw new Error(`run-now ${key}: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body.job_id;
}

/** One fault under load: see the module's header. `progress` hears what happens, for the soak. */
export async function runFault(
  world: ChaosWorld,
  plan: FaultPlan,
  progress: (m: string) => void = () => {},
): Promise<FaultRun> {
  const { user, store } = world;
  const label = `${world.kind}-${plan.fault}-${Date.now()}`;
  const heartbeat: string[] = [];
  for (let i = 0; i < plan.heartbeatWorkflows; i++)
    heartbeat.push(
      await createWorkflow(world, {
        name: `${label} heartbeat ${i}`,
        kind: 'HEARTBEAT',
        payload: { endpoint: `${world.endpoint}/${label}/tick/${i}`, timeout: '5s' },
        max_consecutive_job_failures_allowed: 100,
        ...perSecond,
      }),
    );
  const lines = Array.from({ length: plan.linesPerJob }, (_, i) => i + 1).join(' ');
  const writeLines = ['sh', '-c', `for i in ${lines}; do echo "line $i"; done`];
  const container: string[] = [];
  for (let i = 0; i < plan.containerWorkflows; i++)
    container.push(
      await createWorkflow(world, {
        name: `${label} container ${i}`,
        kind: 'CONTAINER',
        payload: { image: TEST_IMAGE, cmd: writeLines },
        max_consecutive_job_failures_allowed: 100,
        ...perSecond,
      }),
    );
  // Run-nows go to workflows of their own that tick once a day, so they never make a tick overlap.
  const daily = { interval: 1440 };
  const runNow = await createWorkflow(world, {
    name: `${label} run-now`,
    kind: 'HEARTBEAT',
    payload: { endpoint: `${world.endpoint}/${label}/run-now`, timeout: '5s' },
    max_consecutive_job_failures_allowed: 100,
    ...daily,
  });
  const keyless = await createWorkflow(world, {
    name: `${label} keyless`,
    kind: 'HEARTBEAT',
    payload: { endpoint: `${world.endpoint}/${label}/keyless`, timeout: '5s' },
    max_consecutive_job_failures_allowed: 100,
    ...daily,
  });
  const long =
    plan.longJobSeconds === undefined
      ? undefined
      : await createWorkflow(world, {
          name: `${label} long`,
          kind: 'CONTAINER',
          payload: {
            image: TEST_IMAGE,
            cmd: ['sh', '-c', `echo begin; sleep ${plan.longJobSeconds}; echo end`],
            timeout: '5m',
          },
          max_consecutive_job_failures_allowed: 100,
          ...daily,
        });
  // The Docker engine stopped for a while: a CONTAINER run-now made while it is down, so that an
  // attempt certainly starts in the outage and has to wait for the engine. The per-second cron's do
  // only by chance: its tick running when the engine stops keeps the next ones back (overlap skip)
  // until that attempt has failed, and its retry may come after the engine is back.
  const waiter =
    world.kind === 'docker' && plan.fault === 'stop' && plan.containerWorkflows > 0
      ? await createWorkflow(world, {
          name: `${label} waiter`,
          kind: 'CONTAINER',
          payload: { image: TEST_IMAGE, cmd: writeLines },
          max_consecutive_job_failures_allowed: 100,
          ...daily,
        })
      : undefined;
  const all = [
    ...heartbeat,
    ...container,
    runNow,
    keyless,
    ...(long ? [long] : []),
    ...(waiter ? [waiter] : []),
  ];
  progress(`${all.length} workflows created`);
  await waitUntil(
    'workflows built',
    async () =>
      (
        await world.db
          .selectFrom('workflows')
          .select('id')
          .where('id', 'in', all)
          .where('build_status', '=', 'COMPLETED')
          .execute()
      ).length === all.length,
    60_000,
  );

  progress('built; load on');
  // The load: run-nows at a fixed rate, each on its own; /readyz polled.
  const answers: Answer[] = [];
  const inFlight = new Set<Promise<void>>();
  const send = (workflowId: string, key: string | undefined) => {
    const sentAt = Date.now();
    const p = user
      .post<{ job_id?: string; code?: string }>(
        `/workflows/${workflowId}/jobs/schedule`,
        undefined,
        key === undefined ? {} : { 'Idempotency-Key': key },
      )
      .then(
        (res) =>
          void answers.push({
            key,
            workflowId,
            sentAt,
            answeredAt: Date.now(),
            status: res.status,
            retryAfter: res.headers.get('retry-after'),
            ...(res.body?.job_id ? { jobId: res.body.job_id } : {}),
            ...(res.body?.code ? { code: res.body.code } : {}),
          }),
        (err: unknown) =>
          void answers.push({
            key,
            workflowId,
            sentAt,
            answeredAt: Date.now(),
            status: 0,
            retryAfter: null,
            code: String(err),
          }),
      )
      .finally(() => inFlight.delete(p));
    inFlight.add(p);
  };
  let loading = true;
  let sent = 0;
  let heldBack = 0;
  const start = Date.now();
  // The event log down makes an append's answer unknowable (the server may have stored a commit
  // whose acknowledgement it never sent), so requests without a key are only sent where it stays up.
  const keylessRate = world.kind === 'nats' ? 0 : plan.keylessPerSecond;
  const loader = (async () => {
    const every = 1000 / (plan.runNowsPerSecond + keylessRate);
    for (let i = 0; loading; i++) {
      const keyed =
        keylessRate === 0 || i % Math.round((plan.runNowsPerSecond + keylessRate) / keylessRate) !== 0;
      // A request stuck behind the outage is not joined by an unbounded crowd of others.
      if (inFlight.size < 64) {
        if (keyed) send(runNow, `${label}-${sent++}`);
        else send(keyless, undefined);
      } else heldBack++;
      await sleep(Math.max(0, start + (i + 1) * every - Date.now()));
    }
  })();
  const readiness: ReadySample[] = [];
  let polling = true;
  const poller = (async () => {
    while (polling) {
      const at = Date.now();
      try {
        const res = await user.get<{ checks: Record<string, { ok: boolean }> }>('/readyz');
        const down = Object.entries(res.body?.checks ?? {})
          .filter(([, c]) => !c.ok)
          .map(([n]) => n);
        readiness.push({ at, status: res.status, down });
      } catch {
        readiness.push({ at, status: 0, down: [] });
      }
      await sleep(250);
    }
  })();

  await sleep(plan.leadMs);
  let longJobId: string | undefined;
  if (long) {
    longJobId = await runNowOnce(user, long, `${label}-long`);
    const id = longJobId;
    await waitUntil(
      'the long job runs',
      async () =>
        (await world.db.selectFrom('jobs').select('status').where('id', '=', id).executeTakeFirst())
          ?.status === 'RUNNING',
      30_000,
    );
    await sleep(1500);
  }

  if (world.kind === 'clickhouse' && container.length) {
    // The read refused during the outage needs a run whose log is stored; a first CONTAINER run on a
    // loaded machine can take longer than the lead.
    await waitUntil(
      'a CONTAINER run completed before the fault',
      async () =>
        (await world.db
          .selectFrom('jobs')
          .select('id')
          .where('workflow_id', 'in', container)
          .where('status', '=', 'COMPLETED')
          .executeTakeFirst()) !== undefined,
      30_000,
    );
  }

  // The fault.
  const fault = Date.now();
  progress(`${world.kind} ${plan.fault}: ${plan.fault === 'restart' ? 'SIGKILL' : 'clean stop'}`);
  if (plan.fault === 'restart') await store.kill();
  else await store.stop();
  const down = Date.now();
  let namedDown: number | undefined;
  const readsDuringOutage: Answer[] = [];
  const named = async () => {
    const res = await user.get<{ checks?: Record<string, { ok: boolean }> }>('/readyz');
    return res.status === 503 && res.body?.checks?.[world.kind]?.ok === false;
  };
  await waitUntil('/readyz names the store', named, 20_000)
    .then(() => {
      namedDown = Date.now();
    })
    .catch(() => {});
  const waiterJobId = waiter ? await runNowOnce(user, waiter, `${label}-waiter`) : undefined;
  if (world.kind === 'clickhouse') {
    // A job's stored log is read from ClickHouse: refused for now, never a 500.
    const job = await world.db
      .selectFrom('jobs')
      .select(['id', 'workflow_id'])
      .where('workflow_id', 'in', container.length ? container : [runNow])
      .where('status', '=', 'COMPLETED')
      .executeTakeFirst();
    if (job) {
      const sentAt = Date.now();
      const res = await user.get<{ code?: string }>(`/workflows/${job.workflow_id}/jobs/${job.id}/logs`);
      readsDuringOutage.push({
        key: undefined,
        workflowId: job.workflow_id,
        sentAt,
        answeredAt: Date.now(),
        status: res.status,
        retryAfter: res.headers.get('retry-after'),
        ...(res.body?.code ? { code: res.body.code } : {}),
      });
    }
  }
  if (world.kind === 'clickhouse' && container.length) {
    // Lines written while ClickHouse is down are what this fault is about: it stays down (a restart
    // too) until a CONTAINER run has ended since, its lines waiting in JetStream.
    await waitUntil(
      'a CONTAINER run ended during the outage',
      async () =>
        (
          await world.db
            .selectFrom('jobs')
            .select('id')
            .where('workflow_id', 'in', container)
            .where('completed_at', '>', new Date(down))
            .execute()
        ).length > 0,
      30_000,
    ).catch(() => {});
  }
  if (plan.fault === 'stop') await sleep(Math.max(0, down + plan.outageMs - Date.now()));
  progress(`${world.kind} ${plan.fault}: starting it again`);
  await store.start();
  const up = Date.now();
  progress(`${world.kind} ${plan.fault}: up after ${((up - down) / 1000).toFixed(1)} s`);

  // Recovery, measured from the instant the store answers again.
  const recovery: Record<string, number | undefined> = {};
  const ready = waitUntil('ready', async () => (await user.get('/readyz')).status === 200, 120_000).then(
    () => {
      recovery.readyz = Date.now() - up;
    },
  );
  // This process's own connection may still be reconnecting (NATS): asked until it answers (the
  // projections are then measured against the log's end as of that answer).
  let lastAtUp: number | undefined;
  await waitUntil(
    'the log answers this process',
    async () => {
      lastAtUp = (await world.nats.jsm.streams.info(streamNames.events)).state.last_seq;
      return true;
    },
    60_000,
  );
  const watchers = [
    ready,
    waitUntil(
      'projections caught up',
      async () =>
        lastAtUp !== undefined &&
        (await readCheckpoint(world.db, 'read_models')) >= lastAtUp &&
        (await readCheckpoint(world.db, 'clickhouse_job_events')) >= lastAtUp,
      120_000,
    ).then(() => {
      recovery.projections = Date.now() - up;
    }),
  ];
  if (world.kind === 'clickhouse' || world.kind === 'docker')
    watchers.push(
      waitUntil('log lines drained', () => logsDrained(world), 120_000).then(() => {
        recovery.logs = Date.now() - up;
      }),
    );
  if (longJobId) {
    const id = longJobId;
    watchers.push(
      waitUntil(
        'the long job ended',
        async () =>
          ['COMPLETED', 'FAILED', 'CANCELED'].includes(
            (await world.db.selectFrom('jobs').select('status').where('id', '=', id).executeTakeFirst())
              ?.status ?? '',
          ),
        Math.max(120_000, (plan.longJobSeconds ?? 0) * 3000),
      ).then(() => {
        recovery.long_job_ended = Date.now() - up;
      }),
    );
  }
  const recovered = Promise.allSettled(watchers);
  progress('recovering; load on');
  await sleep(plan.tailMs);
  loading = false;
  await loader;
  await Promise.all([...inFlight]);
  const firstAccepted = answers
    .filter((a) => a.sentAt >= up && a.status === 201)
    .reduce((min, a) => Math.min(min, a.sentAt), Number.POSITIVE_INFINITY);
  recovery.requests = Number.isFinite(firstAccepted) ? firstAccepted - up : undefined;
  await recovered;
  polling = false;
  await poller;

  progress(`recovered: ${JSON.stringify(recovery)}; retrying the refused run-nows`);
  // Every refused request again, with its key, as Retry-After says.
  const retried: Answer[] = [];
  for (const a of answers.filter((x) => x.status !== 201 && x.key !== undefined)) {
    let again: Answer | undefined;
    for (let attempt = 0; attempt < 10; attempt++) {
      const sentAt = Date.now();
      const res = await user.post<{ job_id?: string; code?: string }>(
        `/workflows/${a.workflowId}/jobs/schedule`,
        undefined,
        { 'Idempotency-Key': a.key! },
      );
      again = {
        key: a.key,
        workflowId: a.workflowId,
        sentAt,
        answeredAt: Date.now(),
        status: res.status,
        retryAfter: res.headers.get('retry-after'),
        ...(res.body?.job_id ? { jobId: res.body.job_id } : {}),
      };
      if (res.status !== 503) break;
      await sleep(Number(again.retryAfter ?? 1) * 1000);
    }
    if (again) retried.push(again);
  }

  // Every accepted run-now's job exists, however late. A JobScheduled stored just before the event
  // log went down is answered 201 (the API's wait for the job row is bounded), but its delivery to the
  // scheduler may be lost with the server's connections: it comes again only after the consumer's
  // ack wait (10 s), and only then is the job created. Checking earlier counted it as never made.
  // Not made by then, it is reported below as a violation, with what the log holds of it.
  const acceptedJobs = [...answers, ...retried]
    .filter((a) => a.status === 201 && a.workflowId === runNow && a.jobId !== undefined)
    .map((a) => a.jobId!);
  const waitStarted = Date.now();
  await waitUntil(
    'every accepted run-now has its job',
    async () =>
      acceptedJobs.length === 0 ||
      (await world.db.selectFrom('jobs').select('id').where('id', 'in', acceptedJobs).execute()).length ===
        new Set(acceptedJobs).size,
    REDELIVERY_BOUND_MS,
  ).then(
    () => {
      recovery.accepted_jobs_made = Date.now() - up;
      if (Date.now() - waitStarted > 1000)
        progress(`accepted run-nows' jobs made ${recovery.accepted_jobs_made} ms after up`);
    },
    () => {},
  );

  progress('terminating the workflows');
  const terminated = Date.now();
  // Quiet: the run's workflows terminated, every job ended, the projections and logs drained.
  for (const id of all) {
    for (let attempt = 0; attempt < 20; attempt++) {
      const res = await user.post(`/workflows/${id}/terminate`);
      if (res.status !== 503) break;
      await sleep(1000);
    }
  }
  await waitUntil(
    'every job ended',
    async () =>
      (
        await world.db
          .selectFrom('jobs')
          .select('id')
          .where('workflow_id', 'in', all)
          .where('status', 'not in', ['COMPLETED', 'FAILED', 'CANCELED'])
          .execute()
      ).length === 0,
    120_000,
  );
  progress('every job ended');
  await waitUntil('projections caught up', () => projectionsCaughtUp(world), 60_000);
  await waitUntil('log lines drained', () => logsDrained(world), 60_000);
  const child = world.system.process.child;
  return {
    plan,
    kind: world.kind,
    times: { start, fault, down, namedDown, up, terminated, end: Date.now() },
    answers,
    heldBack,
    retried,
    readiness,
    readsDuringOutage,
    workflows: {
      heartbeat,
      container,
      runNow,
      keyless,
      ...(long ? { long } : {}),
      ...(waiter ? { waiter } : {}),
    },
    longJobId,
    ...(waiterJobId ? { waiterJobId } : {}),
    recovery,
    processAlive: child.exitCode === null && child.signalCode === null,
    output: world.system.process.output(),
  };
}

async function projectionsCaughtUp(world: ChaosWorld): Promise<boolean> {
  const last = (await world.nats.jsm.streams.info(streamNames.events)).state.last_seq;
  return (
    (await readCheckpoint(world.db, 'read_models')) >= last &&
    (await readCheckpoint(world.db, 'clickhouse_job_events')) >= last
  );
}

/**
 * The log has stopped growing and the projections hold all of it. After a workflow is terminated the
 * scheduler still records its next ticks as skipped (`terminated`) until its refresh (every 2 s)
 * drops the workflow, so "caught up" once is not yet quiet.
 */
async function untilQuiet(world: ChaosWorld): Promise<void> {
  const deadline = Date.now() + 60_000;
  for (;;) {
    const before = (await world.nats.jsm.streams.info(streamNames.events)).state.last_seq;
    await waitUntil('projections caught up', () => projectionsCaughtUp(world), 60_000);
    await sleep(3000);
    const after = (await world.nats.jsm.streams.info(streamNames.events)).state.last_seq;
    if (after === before && (await projectionsCaughtUp(world))) return;
    if (Date.now() > deadline) throw new Error(`the log kept growing (${before} then ${after})`);
  }
}

async function logsDrained(world: ChaosWorld): Promise<boolean> {
  const info = await world.nats.jsm.consumers.info(streamNames.logs, LOG_PROCESSOR);
  return info.num_pending === 0 && info.num_ack_pending === 0;
}

/** The tick decisions of a workflow, from its log: one entry per event that decided a tick. */
async function ticksOf(world: ChaosWorld, workflowId: string): Promise<Tick[]> {
  const ticks: Tick[] = [];
  for (const commit of await world.events.read(eventSubject(world.userId, 'workflow', workflowId)))
    for (const e of commit.events) {
      const decidedAt = Date.parse(e.occurredAt);
      if (e.type === 'JobScheduled' && e.data.trigger === 'AUTOMATIC')
        ticks.push({
          nominal: Date.parse(e.data.scheduled_at),
          outcome: 'fired',
          decidedAt,
          withdrawn: false,
        });
      else if (e.type === 'TickSkipped')
        ticks.push({
          nominal: Date.parse(e.data.nominal_at),
          outcome: e.data.reason,
          decidedAt,
          withdrawn: false,
        });
      else if (e.type === 'TicksWithdrawn')
        // A tick decided ahead and withdrawn is undecided again, and decided once more when due:
        // its first decision no longer counts.
        for (const w of e.data.ticks) {
          const fired = ticks.find(
            (t) => t.nominal === Date.parse(w.nominal_at) && t.outcome === 'fired' && !t.withdrawn,
          );
          if (fired) fired.withdrawn = true;
        }
    }
  return ticks.filter((t) => !t.withdrawn).sort((a, b) => a.nominal - b.nominal);
}

function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return 0;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

const count = (items: readonly string[]) =>
  items.reduce<Record<string, number>>((acc, k) => {
    acc[k] = (acc[k] ?? 0) + 1;
    return acc;
  }, {});

/** A failed job's commits, timed from the fault (stop or kill sent, store down, store up again), and
 * the lines of the process's output that name it. */
function failedJobStory(run: FaultRun, jobId: string, commits: readonly StoredCommit[]): string {
  const { fault, down, up } = run.times;
  const at = (iso: string) => {
    const t = Date.parse(iso);
    return `fault${t >= fault ? '+' : ''}${t - fault} ms (down ${down - fault}, up ${up - fault})`;
  };
  const events = commits.flatMap((c) =>
    c.events.map((e) => {
      const d = e.data as { attempt?: number; reason?: string; error_message?: string };
      const detail = e.type === 'JobFailed' ? ` ${d.reason}: ${d.error_message}` : '';
      return `  ${e.type}${d.attempt === undefined ? '' : ` #${d.attempt}`} at ${at(e.occurredAt)}${detail}`;
    }),
  );
  const said = run.output
    .split('\n')
    .filter((line) => line.includes(jobId))
    .slice(-10);
  return [
    `job ${jobId}:`,
    ...events,
    ...(said.length ? ['  output:', ...said.map((l) => `  ${l}`)] : []),
  ].join('\n');
}

/**
 * What the run did, and every invariant of issue 14 item 1 that it broke (as sentences). `rebuild`
 * replays the log into the read models and compares (only once the system is quiet: nothing else
 * runs in the world meanwhile).
 */
export async function assess(
  world: ChaosWorld,
  run: FaultRun,
  options: { rebuild?: boolean } = {},
): Promise<FaultReport> {
  const violations: string[] = [];
  const { times } = run;
  const { plan } = run;

  // Every role keeps running: one process for all of them, never exited.
  if (!run.processAlive) violations.push(`chronoverse all exited:\n${run.output.slice(-3000)}`);

  // /readyz names what is down, and is ready again after.
  if (times.namedDown === undefined) {
    const seen = run.readiness.filter((r) => r.at >= times.down && r.at <= times.up);
    violations.push(
      `/readyz never named ${world.kind} while it was down (saw ${JSON.stringify(seen.slice(0, 5))})`,
    );
  }
  if (run.recovery.readyz === undefined)
    violations.push('/readyz was not ready again after the store came back');
  const wronglyNamed = run.readiness.filter(
    (r) =>
      r.status === 503 &&
      r.down.some((n) => n !== world.kind) &&
      (r.at < times.fault || r.at > times.up + 15_000),
  );
  if (wronglyNamed.length)
    violations.push(`/readyz named other dependencies as down: ${JSON.stringify(wronglyNamed.slice(0, 3))}`);

  // Commands that cannot be appended: 503 with Retry-After, never a 500 (nor any other answer).
  const odd = run.answers.filter((a) => a.status !== 201 && a.status !== 503);
  if (odd.length)
    violations.push(`run-nows answered neither 201 nor 503: ${JSON.stringify(odd.slice(0, 5))}`);
  const bare = run.answers.filter((a) => a.status === 503 && !/^\d+$/.test(a.retryAfter ?? ''));
  if (bare.length) violations.push(`503 without a Retry-After: ${JSON.stringify(bare.slice(0, 5))}`);
  for (const r of run.readsDuringOutage)
    if (r.status !== 503 || !/^\d+$/.test(r.retryAfter ?? ''))
      violations.push(`a read of the down store answered ${r.status} (Retry-After ${r.retryAfter}), not 503`);
  const notRetried = run.retried.filter((a) => a.status !== 201);
  if (notRetried.length)
    violations.push(
      `run-nows retried with their key were not accepted: ${JSON.stringify(notRetried.slice(0, 5))}`,
    );

  // Never a half-write: each key is one job, run once; a keyless request made one job iff it was accepted.
  const jobs = await world.db
    .selectFrom('jobs')
    .selectAll()
    .where('workflow_id', 'in', [
      ...run.workflows.heartbeat,
      ...run.workflows.container,
      run.workflows.runNow,
      run.workflows.keyless,
      ...(run.workflows.long ? [run.workflows.long] : []),
      ...(run.workflows.waiter ? [run.workflows.waiter] : []),
    ])
    .execute();
  const keys = new Set(run.answers.filter((a) => a.key !== undefined).map((a) => a.key));
  const keyedJobs = jobs.filter((j) => j.workflow_id === run.workflows.runNow);
  if (keyedJobs.length !== keys.size) {
    // Which keys, what they were answered and when, and what the log holds of their jobs: the figure
    // alone once left a failure in CI without a lead.
    const made = new Set(keyedJobs.map((j) => j.id));
    const missing = [...run.answers, ...run.retried].filter(
      (a) => a.key !== undefined && a.jobId !== undefined && !made.has(a.jobId),
    );
    const detail = await Promise.all(
      missing.slice(0, 3).map(async (a) => ({
        key: a.key,
        status: a.status,
        job: a.jobId,
        sent: new Date(a.sentAt).toISOString(),
        answered_ms: a.answeredAt - a.sentAt,
        job_commits_in_log: (await world.events.read(eventSubject(world.userId, 'job', a.jobId!))).length,
      })),
    );
    violations.push(
      `${keys.size} Idempotency-Keys made ${keyedJobs.length} jobs (one each expected); answered without a job: ${JSON.stringify(detail)}; outage ${new Date(times.fault).toISOString()} to ${new Date(times.up).toISOString()}, checked ${new Date().toISOString()}`,
    );
  }
  const acceptedIds = new Set(
    [...run.answers, ...run.retried]
      .filter((a) => a.status === 201 && a.key !== undefined)
      .map((a) => a.jobId),
  );
  const unanswered = keyedJobs.filter((j) => !acceptedIds.has(j.id));
  if (unanswered.length) violations.push(`${unanswered.length} keyed jobs no accepted answer names`);
  const keyless = run.answers.filter((a) => a.key === undefined);
  const keylessJobs = jobs.filter((j) => j.workflow_id === run.workflows.keyless);
  const keylessAccepted = keyless.filter((a) => a.status === 201);
  if (keylessJobs.length !== keylessAccepted.length)
    violations.push(
      `${keylessAccepted.length} keyless run-nows were accepted (${keyless.length - keylessAccepted.length} refused) but ${keylessJobs.length} jobs exist: a refused request wrote`,
    );
  const unfinished = keyedJobs.filter((j) => j.status !== 'COMPLETED' && j.status !== 'CANCELED');
  if (unfinished.length)
    violations.push(
      `run-now jobs did not complete: ${JSON.stringify(unfinished.slice(0, 3).map(jobSummary))}`,
    );

  // Ticks: each nominal tick ends as exactly one event, none missing; missed ones only where the
  // outage explains them, and under `latest` the newest late tick of a catch-up fires.
  const lateness: number[] = [];
  const outcomes: string[] = [];
  const graceMs = GRACE_SECONDS * 1000;
  for (const id of [...run.workflows.heartbeat, ...run.workflows.container]) {
    const ticks = await ticksOf(world, id);
    const byNominal = new Map<number, Tick[]>();
    for (const t of ticks) byNominal.set(t.nominal, [...(byNominal.get(t.nominal) ?? []), t]);
    for (const [nominal, decided] of byNominal)
      if (decided.length !== 1)
        violations.push(
          `workflow ${id}: tick ${new Date(nominal).toISOString()} decided ${decided.length} times (${decided.map((d) => d.outcome).join(', ')})`,
        );
    const nominals = [...byNominal.keys()].sort((a, b) => a - b);
    for (let i = 1; i < nominals.length; i++)
      if (nominals[i]! - nominals[i - 1]! !== 1000)
        violations.push(
          `workflow ${id}: no decision for the ticks between ${new Date(nominals[i - 1]!).toISOString()} and ${new Date(nominals[i]!).toISOString()}`,
        );
    // The ticks after the run were recorded `terminated` (at once, ahead of their time, once the
    // workflow was terminated), and so may be one due just before that was not yet decided: not part
    // of the run.
    const unique = nominals
      .map((n) => byNominal.get(n)![0]!)
      .filter((t) => t.nominal < times.terminated - 2000);
    for (const t of unique) {
      outcomes.push(t.outcome);
      if (!['fired', 'overlap', 'missed'].includes(t.outcome))
        violations.push(`workflow ${id}: tick ${new Date(t.nominal).toISOString()} skipped as ${t.outcome}`);
      if (
        t.outcome === 'missed' &&
        (t.nominal < times.fault - graceMs || t.nominal > times.up + graceMs + 5000)
      )
        violations.push(
          `workflow ${id}: tick ${new Date(t.nominal).toISOString()} missed, outside the outage (${new Date(times.fault).toISOString()} to ${new Date(times.up).toISOString()})`,
        );
    }
    for (let i = 0; i < unique.length; i++) {
      if (unique[i]!.outcome !== 'missed' || unique[i + 1]?.outcome === 'missed') continue;
      const next = unique[i + 1];
      if (next && (next.decidedAt - next.nominal <= graceMs || next.outcome === 'missed'))
        violations.push(
          `workflow ${id}: missed ticks up to ${new Date(unique[i]!.nominal).toISOString()} were not followed by the latest late tick firing (catch-up 'latest')`,
        );
    }
  }
  for (const j of jobs)
    if (j.trigger === 'AUTOMATIC' && j.started_at && j.attempt === 1)
      lateness.push(Math.max(0, j.started_at.getTime() - j.scheduled_at.getTime()));

  // Jobs: none failed but for the SYSTEM failures a Docker restart causes, and those were retried.
  const failed = jobs.filter((j) => j.status === 'FAILED');
  if (failed.length) violations.push(`jobs failed: ${JSON.stringify(failed.slice(0, 3).map(jobSummary))}`);
  // What a failure needs to be understood once the world is gone: each attempt's start and end
  // against the fault's times, and what the process said of the job.
  const toldOf = new Set(failed.slice(0, 3).map((j) => j.id));
  let systemFailures = 0;
  for (const j of jobs) {
    const commits = await world.events.read(eventSubject(world.userId, 'job', j.id));
    if (toldOf.has(j.id)) violations.push(failedJobStory(run, j.id, commits));
    for (const c of commits)
      for (const e of c.events)
        if (e.type === 'JobFailed') {
          if (e.data.failure_kind === 'SYSTEM') systemFailures++;
          if (e.data.failure_kind !== 'SYSTEM' || !e.data.will_retry)
            violations.push(
              `job ${j.id}: attempt ${e.data.attempt} failed ${e.data.failure_kind} ${e.data.reason}, not retried`,
            );
        }
  }
  if (run.longJobId) {
    const longJob = jobs.find((j) => j.id === run.longJobId);
    const failures = (await world.events.read(eventSubject(world.userId, 'job', run.longJobId)))
      .flatMap((c) => c.events)
      .filter((e) => e.type === 'JobFailed');
    if (world.kind === 'docker') {
      // Killed, the engine takes the run with it: the attempt fails as SYSTEM and its retry runs once
      // the engine is back. Stopped cleanly, the engine lets a short container finish first (it waits
      // up to its shutdown timeout), so the attempt may complete; either way the job completes.
      const system = failures.some(
        (e) => e.type === 'JobFailed' && e.data.failure_kind === 'SYSTEM' && e.data.will_retry,
      );
      if (plan.fault === 'restart' && !system)
        violations.push(
          'the container running across the Docker restart did not fail as SYSTEM to be retried',
        );
      if (longJob?.status !== 'COMPLETED' || (system && longJob.attempt < 2))
        violations.push(
          `the container running across the Docker ${plan.fault} did not complete: ${JSON.stringify(longJob && jobSummary(longJob))}`,
        );
    }
  }
  // A workflow that reached its failure limit would have been terminated by it.
  const terminatedByFailures = await world.db
    .selectFrom('workflows')
    .select('id')
    .where('id', 'in', [...run.workflows.heartbeat, ...run.workflows.container])
    .where('terminated_reason', '=', 'consecutive_failures')
    .execute();
  if (terminatedByFailures.length)
    violations.push(`${terminatedByFailures.length} workflows terminated by failures`);

  // Log lines buffered in JetStream reach ClickHouse: every completed CONTAINER attempt's lines (the
  // waiter's too: it writes as many as a tick).
  let logLines: FaultReport['log_lines'];
  if (run.workflows.container.length) {
    const completed = jobs.filter(
      (j) => j.kind === 'CONTAINER' && j.status === 'COMPLETED' && j.workflow_id !== run.workflows.long,
    );
    const rows = await world.clickhouse
      .query({
        // ClickHouse 18.16 has no query parameters.
        query: `SELECT job_id, attempt, count() AS n FROM job_logs FINAL WHERE workflow_id IN (${quoteList([...run.workflows.container, ...(run.workflows.waiter ? [run.workflows.waiter] : [])])}) GROUP BY job_id, attempt`,
        format: 'JSONEachRow',
      })
      .then((r) => r.json<{ job_id: string; attempt: number; n: number }>());
    const stored = new Map(rows.map((r) => [`${r.job_id}:${r.attempt}`, Number(r.n)]));
    const short = completed.filter((j) => (stored.get(`${j.id}:${j.attempt}`) ?? 0) !== plan.linesPerJob);
    if (short.length)
      violations.push(
        `${short.length} of ${completed.length} completed CONTAINER jobs do not have their ${plan.linesPerJob} lines in ClickHouse: ${JSON.stringify(short.slice(0, 3).map((j) => ({ ...jobSummary(j), lines: stored.get(`${j.id}:${j.attempt}`) ?? 0 })))}`,
      );
    const duringOutage = completed.filter(
      (j) => j.completed_at && j.completed_at.getTime() >= times.down && j.completed_at.getTime() <= times.up,
    );
    if (world.kind === 'clickhouse' && duringOutage.length === 0)
      violations.push('no CONTAINER run ended while ClickHouse was down: the outage was not met');
    logLines = {
      expected: completed.length * plan.linesPerJob,
      stored: completed.reduce((n, j) => n + (stored.get(`${j.id}:${j.attempt}`) ?? 0), 0),
    };
  }

  // Projections caught up (waited for) and equal a rebuild of the log.
  if (options.rebuild) {
    await untilQuiet(world);
    const live = await dumpReadModels(world.db);
    const liveCounts = await countJobEvents(world.clickhouse, world.system.dbs.config.CLICKHOUSE_DATABASE);
    const deps = { nats: world.nats, db: world.db, log };
    for (const p of allProjections({ clickhouse: world.clickhouse, config: world.system.dbs.config }))
      await rebuildProjection(deps, p);
    const rebuilt = await dumpReadModels(world.db);
    for (const table of Object.keys(rebuilt)) {
      const [a, b] = [live[table] ?? [], rebuilt[table] ?? []];
      if (JSON.stringify(a) === JSON.stringify(b)) continue;
      const i = a.findIndex((row, k) => JSON.stringify(row) !== JSON.stringify(b[k]));
      violations.push(
        `read model ${table} differs from a rebuild of the log (${a.length} rows live, ${b.length} rebuilt; first difference: live ${JSON.stringify(a[i])}, rebuilt ${JSON.stringify(b[i])})`,
      );
    }
    const rebuiltCounts = await countJobEvents(world.clickhouse, world.system.dbs.config.CLICKHOUSE_DATABASE);
    if (JSON.stringify(rebuiltCounts) !== JSON.stringify(liveCounts))
      violations.push(
        `ClickHouse job events differ from a rebuild: live ${JSON.stringify(liveCounts)}, rebuilt ${JSON.stringify(rebuiltCounts)}`,
      );
  }

  const statuses = run.answers.map((a) => String(a.status));
  return {
    store: world.kind,
    fault: plan.fault,
    down_ms: times.up - times.down,
    requests: {
      sent: run.answers.length,
      held_back: run.heldBack,
      by_status: count(statuses),
      latency_ms: Object.fromEntries(
        Object.keys(count(statuses)).map((status) => {
          const took = run.answers
            .filter((a) => String(a.status) === status)
            .map((a) => a.answeredAt - a.sentAt);
          return [status, { p50: percentile(took, 50), p99: percentile(took, 99), max: Math.max(...took) }];
        }),
      ),
      failed: run.answers.filter((a) => a.status !== 201).length,
      retried_after_recovery: run.retried.length,
      retried_accepted: run.retried.filter((a) => a.status === 201).length,
    },
    ticks: {
      total: outcomes.length,
      by_outcome: count(outcomes),
      late_max_ms: lateness.length ? Math.max(...lateness) : 0,
      late_p99_ms: percentile(lateness, 99),
    },
    jobs: {
      total: jobs.length,
      by_status: count(jobs.map((j) => j.status)),
      system_failures: systemFailures,
    },
    log_lines: logLines,
    recovery_ms: run.recovery,
    violations,
  };
}

function jobSummary(j: {
  id: string;
  status: string;
  attempt: number;
  failure_kind: string | null;
  failure_reason: string | null;
  error_message: string | null;
}) {
  return {
    id: j.id,
    status: j.status,
    attempt: j.attempt,
    failure: j.failure_kind ? `${j.failure_kind} ${j.failure_reason}: ${j.error_message}` : null,
  };
}

/**
 * The plan of the e2e tests: a small load (two per-second HEARTBEAT crons, CONTAINER crons where
 * the store matters to them, two run-nows a second with a key and one without) and a short outage.
 * The issue's 30 s stop is shortened to `stopMs` here (still several times the scheduler's grace, so
 * ticks due during it go through the catch-up); `npm run bench -- --only chaos` stops each store for
 * the full 30 s.
 */
export function smallPlan(fault: FaultKind, overrides: Partial<FaultPlan> = {}): FaultPlan {
  return {
    fault,
    outageMs: fault === 'stop' ? 6000 : 0,
    leadMs: 2000,
    tailMs: 4000,
    runNowsPerSecond: 2,
    keylessPerSecond: 1,
    heartbeatWorkflows: 2,
    containerWorkflows: 0,
    linesPerJob: 3,
    ...overrides,
  };
}
