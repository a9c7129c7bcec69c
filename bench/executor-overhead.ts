// Executor overhead (issue 6): a CONTAINER job `echo hi` (chronoverse/busybox:local) from RunNow to
// its JobCompleted commit, through the real processes (`chronoverse scheduler` for the job lifecycle
// and dispatch reactors, `chronoverse executor` for the build and the run), against the bare dockerode
// create / start / wait / remove of the same container with the same options and limits, measured
// in the same run, alternating (the order flips every run). The log's JetStream timestamps split
// each end-to-end run into its stages.
import { randomUUID } from 'node:crypto';
import type Docker from 'dockerode';
import { CommandHandler } from '../src/actors/command-handler.ts';
import { jobDecider } from '../src/actors/job-decider.ts';
import { workflowDecider } from '../src/actors/workflow-decider.ts';
import { workflowStatus } from '../src/actors/workflow-machine.ts';
import type { Config } from '../src/config/config.ts';
import { eventSubject } from '../src/events/subjects.ts';
import { executorLimitsFrom, limitsFor } from '../src/executor/container-limits.ts';
import { containerOptions } from '../src/executor/container-runner.ts';
import { connectDocker } from '../src/infra/docker-connection.ts';
import { waitUntil } from '../src/stack/process-control.ts';
import { ContainerPayload } from '../src/workflows/payload-schemas.ts';
import type { Benchmark, Progress, Scale } from './support/benchmark.ts';
import { type BenchEnvironment, openBenchEnvironment } from './support/environment.ts';
import { type BenchRole, readCommits, startBenchRole } from './support/role-processes.ts';
import { latency, median, round, withTimeout } from './support/stats.ts';

const sizes: Record<Scale, { runs: number; warmup: number }> = {
  full: { runs: 30, warmup: 2 },
  small: { runs: 5, warmup: 1 },
};

const IMAGE = 'chronoverse/busybox:local';
const CMD = ['echo', 'hi'];
/** Issue 6's target: the system adds under 150 ms to the bare container run (medians). */
const TARGET = { overhead_below_ms: 150 };
const RUN_TIMEOUT_MS = 60_000;

/** The container exactly as the executor creates it (its own options builder), for the bare baseline. */
function bareOptions(config: Config, name: string): Docker.ContainerCreateOptions {
  const spec = ContainerPayload.parse({ image: IMAGE, cmd: CMD });
  return containerOptions(spec, limitsFor(spec, executorLimitsFrom(config)), {
    'dev.chronoverse.bench': name,
  });
}

interface BareRun {
  total_ms: number;
  create_ms: number;
  start_ms: number;
  wait_ms: number;
  remove_ms: number;
}

async function bareRun(docker: Docker, options: Docker.ContainerCreateOptions): Promise<BareRun> {
  const t0 = performance.now();
  const container = await docker.createContainer(options);
  const t1 = performance.now();
  try {
    await container.start();
    const t2 = performance.now();
    const status = (await container.wait()) as { StatusCode: number };
    const t3 = performance.now();
    if (status.StatusCode !== 0) throw new Error(`the bare container exited with ${status.StatusCode}`);
    await container.remove({ force: true, v: true });
    const t4 = performance.now();
    return {
      total_ms: round(t4 - t0, 1),
      create_ms: round(t1 - t0, 1),
      start_ms: round(t2 - t1, 1),
      wait_ms: round(t3 - t2, 1),
      remove_ms: round(t4 - t3, 1),
    };
  } catch (err) {
    await container.remove({ force: true, v: true }).catch(() => {});
    throw err;
  }
}

interface EndToEnd {
  jobId: string;
  submittedAt: number;
  e2e_ms: number;
}

/** RunNow, then the JobCompleted commit seen on the job's subject (core NATS, subscribed before). */
async function endToEnd(
  env: BenchEnvironment,
  commands: CommandHandler,
  userId: string,
  workflowId: string,
): Promise<EndToEnd> {
  const jobId = randomUUID();
  let settle: (outcome: string) => void = () => {};
  const ended = new Promise<string>((r) => (settle = r));
  const sub = env.nats.nc.subscribe(eventSubject(userId, 'job', jobId), {
    callback: (_err, msg) => {
      const types = msg?.headers?.get('Cv-Event-Types')?.split(',') ?? [];
      const end = types.find((t) => t === 'JobCompleted' || t === 'JobFailed' || t === 'JobCanceled');
      if (end) settle(end);
    },
  });
  try {
    await env.nats.nc.flush();
    const submittedAt = Date.now();
    const t0 = performance.now();
    await commands.handle(workflowDecider, {
      commandId: randomUUID(),
      userId,
      aggregateId: workflowId,
      command: { type: 'RunNow', data: { job_id: jobId } },
    });
    const outcome = await withTimeout(ended, RUN_TIMEOUT_MS, `job ${jobId}`);
    const e2e = performance.now() - t0;
    if (outcome !== 'JobCompleted') {
      const job = await commands.load(jobDecider, userId, jobId);
      throw new Error(`job ${jobId} ended with ${outcome}: ${JSON.stringify(job.state.context)}`);
    }
    return { jobId, submittedAt, e2e_ms: round(e2e, 1) };
  } finally {
    sub.unsubscribe();
  }
}

/** Each run's stages, from the JetStream timestamps of its commits. */
async function stagesOf(env: BenchEnvironment, userId: string, runs: readonly EndToEnd[]) {
  const commits = await readCommits(env.nats, `cv.evt.${userId}.>`);
  const at = new Map<string, Partial<Record<string, number>>>();
  const mark = (jobId: string, type: string, t: number) => {
    const m = at.get(jobId) ?? {};
    m[type] ??= t;
    at.set(jobId, m);
  };
  for (const c of commits) {
    for (const e of c.events) {
      if (e.type === 'JobScheduled') mark((e.data as { job_id: string }).job_id, e.type, c.storedAt);
      else if (e.aggregate === 'job') mark(e.aggregateId, e.type, c.storedAt);
    }
  }
  const stages: Record<string, number[]> = {
    run_now: [],
    scheduled_to_created: [],
    created_to_queued: [],
    queued_to_started: [],
    started_to_completed: [],
  };
  for (const r of runs) {
    const m = at.get(r.jobId) ?? {};
    const step = (name: string, from: number | undefined, to: number | undefined) => {
      if (from !== undefined && to !== undefined) stages[name]!.push(to - from);
    };
    step('run_now', r.submittedAt, m.JobScheduled);
    step('scheduled_to_created', m.JobScheduled, m.JobCreated);
    step('created_to_queued', m.JobCreated, m.JobQueued);
    step('queued_to_started', m.JobQueued, m.JobStarted);
    step('started_to_completed', m.JobStarted, m.JobCompleted);
  }
  return Object.fromEntries(
    Object.entries(stages).map(([k, v]) => [k, { median_ms: round(median(v), 1), ...latency(v) }]),
  );
}

async function measure(
  env: BenchEnvironment,
  docker: Docker,
  s: { runs: number; warmup: number },
  progress: Progress,
) {
  const commands = new CommandHandler(env.events);
  const userId = randomUUID();
  const workflowId = randomUUID();
  await commands.handle(workflowDecider, {
    commandId: randomUUID(),
    userId,
    aggregateId: workflowId,
    command: {
      type: 'CreateWorkflow',
      data: {
        workflow_id: workflowId,
        user_id: userId,
        name: 'echo hi',
        kind: 'CONTAINER',
        payload: { image: IMAGE, cmd: CMD },
        schedule: { type: 'interval', minutes: 10_080 },
        max_consecutive_job_failures_allowed: 100,
      },
    },
  });
  await waitUntil(
    'the CONTAINER workflow built',
    async () =>
      workflowStatus((await commands.load(workflowDecider, userId, workflowId)).state).build === 'COMPLETED',
    30_000,
  );
  const options = bareOptions(env.config, 'executor_overhead');
  progress(`executor_overhead: warm-up, ${s.warmup} of each`);
  for (let i = 0; i < s.warmup; i++) {
    await bareRun(docker, options);
    await endToEnd(env, commands, userId, workflowId);
  }
  const bare: BareRun[] = [];
  const e2e: EndToEnd[] = [];
  for (let i = 0; i < s.runs; i++) {
    // Alternating, and the order flipped every run, so drift touches both alike.
    if (i % 2 === 0) {
      bare.push(await bareRun(docker, options));
      e2e.push(await endToEnd(env, commands, userId, workflowId));
    } else {
      e2e.push(await endToEnd(env, commands, userId, workflowId));
      bare.push(await bareRun(docker, options));
    }
    progress(
      `executor_overhead: run ${i + 1}/${s.runs}: end to end ${e2e.at(-1)!.e2e_ms} ms, bare ${bare.at(-1)!.total_ms} ms`,
    );
  }
  return { bare, e2e, stages: await stagesOf(env, userId, e2e), options };
}

export const executorOverheadBenchmark: Benchmark = {
  name: 'executor_overhead',
  description:
    'CONTAINER `echo hi`: RunNow to JobCompleted through the processes vs bare dockerode, alternating',
  async run(scale, progress) {
    const s = sizes[scale];
    const env = await openBenchEnvironment('executor_overhead', progress);
    const docker = connectDocker(env.config.DOCKER_HOST);
    const roles: BenchRole[] = [];
    try {
      await docker.getImage(IMAGE).inspect();
      roles.push(await startBenchRole('scheduler', env.config));
      roles.push(await startBenchRole('executor', env.config, { CV_EXECUTOR_ID: 'bench-executor-overhead' }));
      progress('executor_overhead: chronoverse scheduler and executor ready');
      const { bare, e2e, stages, options } = await measure(env, docker, s, progress);
      const bareMedian = median(bare.map((b) => b.total_ms));
      const e2eMedian = median(e2e.map((r) => r.e2e_ms));
      const overhead = round(e2eMedian - bareMedian, 1);
      return {
        runs: s.runs,
        workload: {
          image: IMAGE,
          cmd: CMD,
          limits: {
            cpus: (options.HostConfig?.NanoCpus ?? 0) / 1e9,
            memory_mb: (options.HostConfig?.Memory ?? 0) / 2 ** 20,
            pids: options.HostConfig?.PidsLimit,
          },
          warmup_runs_each: s.warmup,
          order: 'alternating, bare first on even runs, end to end first on odd runs',
        },
        system: {
          processes: 'chronoverse scheduler + chronoverse executor (concurrency 4), private nats-server',
          end_to_end:
            'RunNow through CommandHandler in the benchmark process, until its JobCompleted commit arrives on the job subject (core NATS subscription)',
        },
        bare_docker: {
          what: 'dockerode createContainer (same options and limits as container-runner.ts), start, wait, remove',
          median: {
            total_ms: bareMedian,
            create_ms: median(bare.map((b) => b.create_ms)),
            start_ms: median(bare.map((b) => b.start_ms)),
            wait_ms: median(bare.map((b) => b.wait_ms)),
            remove_ms: median(bare.map((b) => b.remove_ms)),
          },
          ...latency(bare.map((b) => b.total_ms)),
          runs: bare,
        },
        end_to_end: {
          median_ms: e2eMedian,
          ...latency(e2e.map((r) => r.e2e_ms)),
          runs_ms: e2e.map((r) => r.e2e_ms),
          stages: {
            what: 'medians per stage from the JetStream timestamps of the commits: RunNow (submit to JobScheduled), the lifecycle reactor (JobScheduled to JobCreated, to JobQueued), dispatch reactor + executor pull + StartJob (JobQueued to JobStarted), the container run + log shipping + CompleteJob (JobStarted to JobCompleted)',
            ...stages,
          },
        },
        overhead_ms: overhead,
        overhead_paired_median_ms: round(median(e2e.map((r, i) => r.e2e_ms - bare[i]!.total_ms)), 1),
        overhead_note:
          'overhead_ms is median end to end minus median bare (the target); the paired figure is the median of each run minus the bare run next to it, less sensitive to drift of the engine',
        role_log_problems: Object.fromEntries(roles.map((r) => [r.role, r.problems()])),
        ratios: { end_to_end_vs_bare: round(e2eMedian / bareMedian) },
        target: {
          ...TARGET,
          overhead_ms: overhead,
          judged: scale === 'full',
          ...(scale === 'full'
            ? {}
            : { note: `scale ${scale}: ${s.runs} runs; the target is judged at full scale only` }),
          met: scale === 'full' ? overhead < TARGET.overhead_below_ms : null,
        },
      };
    } finally {
      for (const r of roles.reverse()) await r.stop();
      await env.dispose();
    }
  },
};
