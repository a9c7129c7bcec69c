// The load and the checks of the tests that break something under a running system (a NATS node
// killed or cut off, every role restarted): per-second cron workflows plus run-nows every 200 ms,
// each with its own Idempotency-Key, and afterwards the promises a user relies on: every run-now
// answered and (retried with its key where it was refused) run once to COMPLETED, every nominal second
// of every cron decided exactly once with none missed and no gap, each job's endpoint hit once (an
// attempt lost with a SIGKILLed executor is retried, and may have hit it before the kill), and the
// read models, caught up, equal to a rebuild of the log.
import { expect } from 'vitest';
import { UnavailableError } from '../../src/errors.ts';
import { aggregateHistory } from '../../src/events/history.ts';
import { streamNames } from '../../src/events/stream-definitions.ts';
import { readCheckpoint } from '../../src/projections/checkpoint.ts';
import { rebuildProjection } from '../../src/projections/projection-batch.ts';
import { ProjectionRunner } from '../../src/projections/projection-runner.ts';
import { allProjections } from '../../src/projections/registry.ts';
import type { Runtime } from '../../src/runtime/runtime.ts';
import { waitUntil } from '../../src/stack/process-control.ts';
import { createLogger } from '../../src/telemetry/logger.ts';
import { dumpReadModels } from './read-model-dump.ts';
import type { ApiClient } from './system.ts';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export type RunNowAnswer = {
  key: string;
  status: number;
  jobId?: string;
  at: number;
  ms: number;
  retryAfter?: string | null;
};

/** Sends one run-now with `key` and tells what came back (status 0: no answer at all). */
export type RunNow = (key: string, index: number) => Promise<RunNowAnswer>;

/** A run-now through one API client. */
export function runNowVia(user: ApiClient, workflowId: string): RunNow {
  return async (key) => {
    const at = Date.now();
    try {
      const res = await user.post<{ job_id?: string }>(`/workflows/${workflowId}/jobs/schedule`, undefined, {
        'Idempotency-Key': key,
      });
      return {
        key,
        status: res.status,
        at,
        ms: Date.now() - at,
        retryAfter: res.headers.get('retry-after'),
        ...(res.body?.job_id ? { jobId: res.body.job_id } : {}),
      };
    } catch {
      return { key, status: 0, at, ms: Date.now() - at }; // refused or reset
    }
  };
}

export interface Workload {
  readonly cron: readonly string[];
  readonly manualId: string;
  readonly started: number;
  /** A run-now every 200 ms until `stop`, which returns every answer. */
  stop(): Promise<RunNowAnswer[]>;
}

/** Creates `crons` per-second HEARTBEAT workflows and a manual one, and starts the run-nows. */
export async function startWorkload(
  user: ApiClient,
  endpointBase: string,
  crons: number,
  runNowOf: (manualId: string) => RunNow,
): Promise<Workload> {
  const cron: string[] = [];
  for (let i = 0; i < crons; i++) {
    const res = await user.post<{ id: string }>('/workflows', {
      name: `every second ${i}`,
      kind: 'HEARTBEAT',
      payload: { endpoint: `${endpointBase}/cron/${i}` },
      schedule: { cron: '* * * * * *', timezone: 'UTC' },
    });
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    cron.push(res.body.id);
  }
  const manual = await user.post<{ id: string }>('/workflows', {
    name: 'run now',
    kind: 'HEARTBEAT',
    payload: { endpoint: `${endpointBase}/now` },
    interval: 3600,
  });
  expect(manual.status).toBe(201);
  const runNow = runNowOf(manual.body.id);
  const answers: RunNowAnswer[] = [];
  const inFlight: Promise<void>[] = [];
  let load = true;
  const loader = (async () => {
    for (let i = 0; load; i++) {
      inFlight.push(runNow(`now-${i}`, i).then((a) => void answers.push(a)));
      await sleep(200);
    }
  })();
  return {
    cron,
    manualId: manual.body.id,
    started: Date.now(),
    async stop() {
      load = false;
      await loader;
      await Promise.all(inFlight);
      return answers;
    },
  };
}

export interface Checked {
  readonly runNowJobs: number;
  readonly cronJobs: number;
  readonly refused: RunNowAnswer[];
  readonly historyReadRetries: number;
  /** Jobs that ended COMPLETED on a later attempt after an executor was killed holding one. */
  readonly retriedJobs: number;
  /** The cron ticks recorded as skipped, by reason (an overlap while a run waits out the fault). */
  readonly skippedTicks: Record<string, number>;
  /** Ticks decided ahead and withdrawn by the pause before they were due (decided again when due). */
  readonly withdrawnTicks: number;
}

/**
 * Pauses the crons, then checks every promise (see the top of this file). `settle` runs once every
 * job has ended and the read models have caught up, before the rebuild (stop the roles there, so
 * nothing writes during the comparison).
 */
export async function checkNothingLost(options: {
  user: ApiClient;
  runtime: Runtime;
  userId: string;
  workload: Workload;
  answers: RunNowAnswer[];
  runNow: RunNow;
  hits: ReadonlyMap<string, number>;
  settle: () => Promise<void>;
  /**
   * An executor was SIGKILLed: an attempt it held is failed SYSTEM `executor_lost` and retried (the
   * attempt fence), so a job may end COMPLETED on a later attempt, and the lost attempt may or may not
   * have reached its endpoint before the kill.
   */
  executorKilled?: boolean;
}): Promise<Checked> {
  const { user, runtime, userId, workload, answers, runNow, hits } = options;
  for (const id of workload.cron) expect((await user.post(`/workflows/${id}/pause`)).status).toBe(200);
  const pausedAt = Date.now();
  const mark = (what: string) => console.error(`[checks ${new Date().toISOString()}] ${what}`);
  mark('crons paused');

  // Every request got an answer a client can act on; those refused are retried with their key.
  const refused = answers.filter((a) => a.status !== 201);
  expect(
    refused.filter((a) => a.status !== 503 && a.status !== 0),
    JSON.stringify(refused),
  ).toEqual([]);
  const accepted = answers.filter((a) => a.status === 201);
  for (const a of refused) {
    const again = await runNow(a.key, 0);
    expect(again.status, JSON.stringify(again)).toBe(201);
    accepted.push(again);
  }
  const jobStatus = async (jobId: string) =>
    String((await user.get<{ status: string }>(`/workflows/${workload.manualId}/jobs/${jobId}`)).body.status);
  await waitUntil(
    'every accepted run-now ended',
    async () =>
      (await Promise.all(accepted.map((a) => jobStatus(a.jobId!)))).every((s) =>
        ['COMPLETED', 'FAILED', 'CANCELED'].includes(s),
      ),
    60_000,
  ).catch(async (err: unknown) => {
    // Say where the stragglers are: their status over the API, the read model's lag behind the log.
    const statuses: Record<string, number> = {};
    const missing: unknown[] = [];
    for (const a of accepted) {
      const s = await jobStatus(a.jobId!);
      statuses[s] = (statuses[s] ?? 0) + 1;
      if (s === '404') {
        const wf = await aggregateHistory(runtime.events, userId, 'workflow', workload.manualId, {
          limit: 10_000,
        });
        const scheduled = wf.entries.filter(
          ({ event }) =>
            event.type === 'JobScheduled' && (event.data as { job_id: string }).job_id === a.jobId,
        );
        const job = await aggregateHistory(runtime.events, userId, 'job', a.jobId!, { limit: 100 }).catch(
          (e: unknown) => String(e),
        );
        missing.push({ answer: a, scheduled: scheduled.length, job });
      }
    }
    if (missing.length) console.error(JSON.stringify(missing, null, 1));
    const last = (await runtime.nats.jsm.streams.info(streamNames.events)).state.last_seq;
    const checkpoint = await readCheckpoint(runtime.db, 'read_models');
    throw new Error(
      `${String(err)}: ${JSON.stringify({ statuses, last_seq: last, read_models_at: checkpoint })}`,
    );
  });
  mark('every run-now ended');
  for (const a of accepted) expect(await jobStatus(a.jobId!), a.key).toBe('COMPLETED');
  const runNowJobs = new Set(accepted.map((a) => a.jobId));
  expect(runNowJobs.size, 'one job per key').toBe(answers.length);

  let historyReadRetries = 0;
  const readHistory = async (id: string) => {
    for (let attempt = 1; ; attempt++) {
      try {
        return await aggregateHistory(runtime.events, userId, 'workflow', id, { limit: 10_000 });
      } catch (err) {
        // A read that times out is retried as any caller would, and counted: an outage, not a loss.
        // After a heal the cluster may answer "JetStream system temporarily unavailable" for some
        // seconds (a CI trial: three reads in a row, back to back), so the retries back off (~30 s).
        if (!(err instanceof UnavailableError) || attempt === 10) throw err;
        historyReadRetries++;
        await sleep(Math.min(5000, 250 * 2 ** attempt));
      }
    }
  };
  // Every nominal second of every cron workflow is in its log exactly once, none missed, no gap. A
  // tick decided ahead (JobScheduled with `ahead`) and withdrawn by the pause before it was due
  // (TicksWithdrawn, its job canceled) is undecided again and decided when due: it counts once, by
  // that second decision.
  const cronJobs = new Map<string, number>();
  const skippedTicks: Record<string, number> = {};
  const withdrawnJobs = new Set<string>();
  for (const [i, id] of workload.cron.entries()) {
    const history = await readHistory(id);
    type Decision = { readonly jobId?: string; readonly entry: unknown };
    const decisions = new Map<number, Decision[]>();
    const decide = (at: string, decision: Decision) => {
      const t = Date.parse(at);
      decisions.set(t, [...(decisions.get(t) ?? []), decision]);
    };
    for (const entry of history.entries) {
      const { event } = entry;
      if (event.type === 'JobScheduled') {
        const { scheduled_at, job_id } = event.data as { scheduled_at: string; job_id: string };
        decide(scheduled_at, { jobId: job_id, entry });
      } else if (event.type === 'TickSkipped') {
        const { nominal_at, reason } = event.data as { nominal_at: string; reason: string };
        decide(nominal_at, { entry });
        expect(reason, `${id} ${nominal_at}`).not.toBe('missed');
        skippedTicks[reason] = (skippedTicks[reason] ?? 0) + 1;
      } else if (event.type === 'TicksWithdrawn') {
        for (const t of (event.data as { ticks: readonly { nominal_at: string; job_id: string }[] }).ticks) {
          const at = Date.parse(t.nominal_at);
          decisions.set(
            at,
            (decisions.get(at) ?? []).filter((d) => d.jobId !== t.job_id),
          );
          withdrawnJobs.add(t.job_id);
        }
      }
    }
    const twice = [...decisions.values()].filter((d) => d.length > 1).map((d) => d.map((x) => x.entry));
    expect(twice, `${id}: a nominal time decided twice`).toEqual([]);
    const kept = [...decisions.entries()].filter(([, d]) => d.length === 1);
    cronJobs.set(`/cron/${i}`, kept.filter(([, d]) => d[0]!.jobId !== undefined).length);
    const sorted = kept.map(([t]) => t).sort((a, b) => a - b);
    const first = sorted[0]!;
    expect(first).toBeLessThan(workload.started + 3000);
    const expected = Math.floor((pausedAt - 2000 - first) / 1000);
    expect(sorted.filter((t) => t <= first + expected * 1000).length, `${id}: a gap`).toBe(expected + 1);
  }

  mark('cron histories checked');
  // Each job ran once: the endpoint's hits equal the jobs (no attempt is retried: it answers 200).
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
    120_000,
  );
  const jobs = await runtime.db
    .selectFrom('jobs')
    .select(['id', 'status', 'attempt', 'workflow_id'])
    .execute();
  // Every job ran to COMPLETED, but those of withdrawn ticks, canceled before they were due.
  expect(
    jobs.filter((j) => (withdrawnJobs.has(j.id) ? j.status !== 'CANCELED' : j.status !== 'COMPLETED')),
  ).toEqual([]);
  // Attempts lost with a killed executor, by endpoint path: each may have hit its endpoint or not.
  const lostAttempts = new Map<string, number>();
  let retriedJobs = 0;
  for (const j of jobs.filter((j) => j.attempt !== 1 && !withdrawnJobs.has(j.id))) {
    const history = await aggregateHistory(runtime.events, userId, 'job', j.id, { limit: 100 });
    const failures = history.entries
      .filter(({ event }) => event.type === 'JobFailed')
      .map(({ event }) => event.data as { attempt: number; failure_kind: string; reason?: string });
    const lostOnly = failures.every((f) => f.failure_kind === 'SYSTEM' && f.reason === 'executor_lost');
    expect(
      options.executorKilled && lostOnly && failures.length === j.attempt - 1,
      `job ${j.id} ended on attempt ${j.attempt}: ${JSON.stringify(failures)}`,
    ).toBe(true);
    retriedJobs++;
    const cronIndex = workload.cron.indexOf(j.workflow_id);
    const path = cronIndex >= 0 ? `/cron/${cronIndex}` : '/now';
    lostAttempts.set(path, (lostAttempts.get(path) ?? 0) + failures.length);
  }
  // Each attempt that ran reached its endpoint once (the endpoint answers 200, nothing retries a hit).
  const hitsWithin = (path: string, jobCount: number) => {
    const n = hits.get(path) ?? 0;
    expect(n, path).toBeGreaterThanOrEqual(jobCount);
    expect(n, path).toBeLessThanOrEqual(jobCount + (lostAttempts.get(path) ?? 0));
  };
  hitsWithin('/now', runNowJobs.size);
  for (const [path, n] of cronJobs) hitsWithin(path, n);

  // The read models, caught up, equal a rebuild of the log.
  const last = (await runtime.nats.jsm.streams.info(streamNames.events)).state.last_seq;
  await waitUntil(
    'projector caught up',
    async () => (await readCheckpoint(runtime.db, 'read_models')) >= last,
    60_000,
  );
  mark('caught up; settling');
  await options.settle();
  const deps = { nats: runtime.nats, db: runtime.db, log: createLogger('test', 'error') };
  // The system appends until it stops (a paused workflow's ticks are recorded as skipped every
  // second), and its projector may exit before applying the last of it: that part is projected here,
  // so the read models compared are those of the whole log.
  const end = (await runtime.nats.jsm.streams.info(streamNames.events)).state.last_seq;
  for (const p of allProjections(runtime)) {
    const runner = new ProjectionRunner(deps, p);
    await runner.start();
    await runner.waitFor(end);
    await runner.stop();
  }
  mark('settled; rebuilding');
  const live = await dumpReadModels(runtime.db);
  for (const p of allProjections(runtime)) await rebuildProjection(deps, p);
  expect(await dumpReadModels(runtime.db)).toEqual(live);

  return {
    runNowJobs: runNowJobs.size,
    cronJobs: [...cronJobs.values()].reduce((a, b) => a + b, 0),
    refused,
    historyReadRetries,
    retriedJobs,
    skippedTicks,
    withdrawnTicks: withdrawnJobs.size,
  };
}
