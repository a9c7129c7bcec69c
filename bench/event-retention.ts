// Event log retention (issue 16): the size of CV_EVENTS under a steady load over many simulated days,
// with the retention sweep and workflow compaction running once a day on an injected clock. The
// same workflows fire every day (full: 20 workflows x 200 jobs a day for 15 days, retention 3 days;
// small: 10 x 40 for 6 days, retention 2), every job driven through the real deciders and command
// handler (tick, create, queue, start, complete, recorded on its workflow), the projections live.
// Reported per day: messages and bytes the stream holds against messages ever appended, what the
// sweep moved and how long it took; at the end, a cold load of a compacted workflow (its snapshot,
// and without it, from archive + log) and a rebuild from archive + log checked against the live rows.
import { randomUUID } from 'node:crypto';
import { CommandHandler } from '../src/actors/command-handler.ts';
import { jobDecider } from '../src/actors/job-decider.ts';
import { userDecider } from '../src/actors/user-decider.ts';
import { workflowDecider } from '../src/actors/workflow-decider.ts';
import { natsSnapshotStore } from '../src/events/snapshot-bucket.ts';
import { streamNames } from '../src/events/stream-definitions.ts';
import { EventArchive } from '../src/projections/event-archive.ts';
import { rebuildProjection } from '../src/projections/projection-batch.ts';
import { ProjectionRunner } from '../src/projections/projection-runner.ts';
import { allProjections } from '../src/projections/registry.ts';
import { compactWorkflows, sweepFinishedJobs } from '../src/projections/retention-sweep.ts';
import { dumpReadModels } from '../test/support/read-model-dump.ts';
import type { Benchmark, Scale } from './support/benchmark.ts';
import { openBenchEnvironment } from './support/environment.ts';
import { median, round } from './support/stats.ts';

const sizes: Record<Scale, { workflows: number; jobsPerDay: number; days: number; retentionDays: number }> = {
  full: { workflows: 20, jobsPerDay: 200, days: 15, retentionDays: 3 },
  small: { workflows: 10, jobsPerDay: 40, days: 6, retentionDays: 2 },
};

const DAY_MS = 86_400_000;

export const eventRetentionBenchmark: Benchmark = {
  name: 'event_retention',
  description: 'stream size under a steady load over simulated days, with the retention sweep once a day',
  async run(scale, progress) {
    const size = sizes[scale];
    const env = await openBenchEnvironment('event_retention', progress);
    let stopRunner = async () => {};
    try {
      const start = Date.UTC(2026, 0, 1);
      let now = start;
      const snapshots = natsSnapshotStore(env.nats.nc);
      const commands = new CommandHandler(env.events, { now: () => new Date(now), snapshots });
      const archive = new EventArchive(env.clickhouse, env.config.CLICKHOUSE_DATABASE);
      const deps = { nats: env.nats, db: env.db, log: env.log, archive };
      const sweepDeps = { ...deps, store: env.events, snapshots };
      const runtime = { clickhouse: env.clickhouse, config: env.config };
      const runner = new ProjectionRunner(deps, allProjections(runtime));
      await runner.start();
      stopRunner = () => runner.stop();

      const userId = randomUUID();
      const send = (decider: unknown, aggregateId: string, command: { type: string }) =>
        // biome-ignore lint/suspicious/noExplicitAny: one helper drives every decider
        commands.handle(decider as any, { commandId: randomUUID(), userId, aggregateId, command } as any);
      await send(userDecider, userId, {
        type: 'RegisterUser',
        data: { user_id: userId, email: 'bench@example.com' },
      } as never);
      const workflows = Array.from({ length: size.workflows }, () => randomUUID());
      for (const workflowId of workflows) {
        await send(workflowDecider, workflowId, {
          type: 'CreateWorkflow',
          data: {
            workflow_id: workflowId,
            user_id: userId,
            name: `wf ${workflowId.slice(0, 8)}`,
            kind: 'HEARTBEAT',
            payload: { endpoint: 'http://127.0.0.1:9/health' },
            schedule: { type: 'interval', minutes: 1 },
            max_consecutive_job_failures_allowed: 3,
          },
        } as never);
      }
      const runJob = async (workflowId: string) => {
        const jobId = randomUUID();
        const nominal = new Date(now).toISOString();
        await send(workflowDecider, workflowId, {
          type: 'FireTick',
          data: { nominal_at: nominal, job_id: jobId, overlap: 'allow' },
        } as never);
        await send(jobDecider, jobId, {
          type: 'CreateJob',
          data: {
            job_id: jobId,
            user_id: userId,
            workflow_id: workflowId,
            scheduled_at: nominal,
            trigger: 'AUTOMATIC',
            kind: 'HEARTBEAT',
            payload: {},
          },
        } as never);
        await send(jobDecider, jobId, { type: 'QueueJob', data: {} } as never);
        await send(jobDecider, jobId, {
          type: 'StartJob',
          data: { attempt: 1, executor_id: 'exec-1' },
        } as never);
        await send(jobDecider, jobId, { type: 'CompleteJob', data: { attempt: 1, exit_code: 0 } } as never);
        await send(workflowDecider, workflowId, {
          type: 'RecordJobOutcome',
          data: { job_id: jobId, outcome: 'COMPLETED' },
        } as never);
      };

      const days: object[] = [];
      const sweepMs: number[] = [];
      for (let day = 0; day < size.days; day++) {
        const dayStart = start + day * DAY_MS;
        for (let k = 0; k < size.jobsPerDay; k++) {
          now = dayStart + Math.floor((k * DAY_MS) / size.jobsPerDay);
          await Promise.all(workflows.map(runJob));
        }
        now = dayStart + DAY_MS - 1;
        const head = (await env.nats.jsm.streams.info(streamNames.events)).state.last_seq;
        await runner.waitFor(head);
        const t0 = performance.now();
        const swept = await sweepFinishedJobs(sweepDeps, {
          now: new Date(now),
          retentionDays: size.retentionDays,
        });
        const compacted = await compactWorkflows(sweepDeps, { now: new Date(now) });
        const ms = performance.now() - t0;
        sweepMs.push(ms);
        const state = (await env.nats.jsm.streams.info(streamNames.events)).state;
        const row = {
          day: day + 1,
          appended: state.last_seq,
          held_messages: state.messages,
          held_bytes: state.bytes,
          jobs_archived: swept.subjects,
          job_commits_archived: swept.commits,
          workflow_commits_archived: compacted.commits,
          sweep_ms: round(ms),
        };
        days.push(row);
        progress(`event_retention: ${JSON.stringify(row)}`);
      }
      await runner.stop();
      stopRunner = async () => {};

      // A compacted workflow, loaded cold: from its snapshot, and from archive + log without it.
      const [workflowId] = workflows;
      const reader = archive;
      const coldMs = async (handler: () => CommandHandler) => {
        const times: number[] = [];
        for (let i = 0; i < 5; i++) {
          const t = performance.now();
          await handler().load(workflowDecider, userId, workflowId!);
          times.push(performance.now() - t);
        }
        return round(median(times));
      };
      const fromSnapshot = await coldMs(() => new CommandHandler(env.events, { snapshots, archive: reader }));
      const fromArchive = await coldMs(() => new CommandHandler(env.events, { archive: reader }));
      const live = await dumpReadModels(env.db);
      const t1 = performance.now();
      for (const p of allProjections(runtime)) await rebuildProjection(deps, p);
      const rebuildMs = performance.now() - t1;
      const rebuiltEqual = JSON.stringify(await dumpReadModels(env.db)) === JSON.stringify(live);
      if (!rebuiltEqual) throw new Error('a rebuild from archive + log differs from the live read models');
      return {
        ...size,
        jobs: size.workflows * size.jobsPerDay * size.days,
        days,
        sweep_ms_median: round(median(sweepMs)),
        workflow_cold_load_ms: { from_snapshot: fromSnapshot, from_archive_and_log: fromArchive },
        rebuild_ms: round(rebuildMs),
        rebuild_equals_live: rebuiltEqual,
      };
    } finally {
      await stopRunner();
      await env.dispose();
    }
  },
};
