// The CPU of one job's decisions, in process, without I/O: every command a heartbeat job's life
// sends to its actors (the run-now on its workflow, the job created and queued, started, completed, its
// end recorded on the workflow, alone and in a group of five as under load), each decided on a warm
// snapshot, and the commit of each encoded and decoded once as it crosses a process. The heartbeat
// benchmark cannot show a change of a few µs per job: its CPU per job moves ±15% with the machine.
// This one does (single-threaded, nothing to wait on); compare commits in alternating runs.
import { randomUUID } from 'node:crypto';
import type { AnyMachineSnapshot } from 'xstate';
import type { Decider } from '../src/actors/aggregate.ts';
import { jobDecider } from '../src/actors/job-decider.ts';
import { workflowDecider } from '../src/actors/workflow-decider.ts';
import type { EventEnvelope } from '../src/events/envelope.ts';
import { toEnvelopes } from '../src/events/envelope.ts';
import { decodeCommit, encodeCommit } from '../src/events/event-store.ts';
import type { JobCommand } from '../src/events/job-events.ts';
import { nameBasedUuid } from '../src/events/name-based-id.ts';
import type { WorkflowCommand } from '../src/events/workflow-events.ts';
import { createHeartbeat } from '../test/support/fixtures.ts';
import type { Benchmark, Scale } from './support/benchmark.ts';
import { median, round } from './support/stats.ts';

const sizes: Record<Scale, { iterations: number; rounds: number }> = {
  full: { iterations: 10_000, rounds: 11 },
  small: { iterations: 2_000, rounds: 3 },
};

/** Jobs already active on the workflow, as under a steady 2 run-nows a second with a backlog. */
const ACTIVE_JOBS = 40;

type Case = { readonly name: string; run(): void };

// biome-ignore lint/suspicious/noExplicitAny: a case drives either decider with its own command type
type AnyDecider = Decider<any, any>;

/** One decision as the command handler makes it: decide, then the envelopes of the commit. */
function decision(decider: AnyDecider, state: AnyMachineSnapshot | undefined, command: object, now: Date) {
  const { events } = decider.decideNext(command, state, { now });
  let n = 0;
  return toEnvelopes(decider.aggregate, 'aggregate', 'user', events as never, {
    now,
    causationId: 'cause',
    correlationId: 'correlation',
    // As the command handler does: event ids derived from the command id.
    newId: () => nameBasedUuid(`command:${n++}`),
  }) as EventEnvelope[];
}

function cases(): Case[] {
  const now = new Date('2026-12-07T00:00:00Z');
  const userId = randomUUID();
  const workflowId = randomUUID();
  let workflow = workflowDecider.decideNext(createHeartbeat(userId, workflowId), undefined, { now }).next;
  const active = Array.from({ length: ACTIVE_JOBS }, () => randomUUID());
  for (const job_id of active) {
    workflow = workflowDecider.decideNext({ type: 'RunNow', data: { job_id } }, workflow, { now }).next;
  }
  const create: JobCommand = {
    type: 'CreateJob',
    queue: true,
    data: {
      job_id: randomUUID(),
      user_id: userId,
      workflow_id: workflowId,
      scheduled_at: now.toISOString(),
      trigger: 'MANUAL',
      kind: 'HEARTBEAT',
      payload: { endpoint: 'http://127.0.0.1:9/health' },
      log_retention: true,
    },
  };
  const queued = jobDecider.decideNext(create, undefined, { now }).next;
  const start: JobCommand = { type: 'StartJob', data: { attempt: 1, executor_id: 'executor-1', claim: 'c' } };
  const started = jobDecider.decideNext(start, queued, { now }).next;
  const outcome = (job_id: string) => ({ job_id, outcome: 'COMPLETED' as const });
  const wf = (command: WorkflowCommand) => () => decision(workflowDecider, workflow, command, now);
  const job = (command: JobCommand, state: AnyMachineSnapshot | undefined) => () =>
    decision(jobDecider, state, command, now);
  const commit = encodeCommit(decision(jobDecider, undefined, create, now));
  return [
    { name: 'run_now', run: wf({ type: 'RunNow', data: { job_id: randomUUID() } }) },
    { name: 'create_and_queue_job', run: job(create, undefined) },
    { name: 'start_job', run: job(start, queued) },
    { name: 'complete_job', run: job({ type: 'CompleteJob', data: { attempt: 1 } }, started) },
    { name: 'record_job_outcome', run: wf({ type: 'RecordJobOutcome', data: outcome(active[0]!) }) },
    {
      name: 'record_job_outcomes_5',
      run: wf({ type: 'RecordJobOutcomes', data: { outcomes: active.slice(0, 5).map(outcome) } }),
    },
    { name: 'encode_and_decode_commit', run: () => decodeCommit(encodeCommit(decodeCommit(commit))) },
  ];
}

/** CPU µs per call of `run`, over `iterations` calls. */
function cpuMicrosPerCall(run: () => void, iterations: number): number {
  const before = process.cpuUsage();
  for (let i = 0; i < iterations; i++) run();
  const used = process.cpuUsage(before);
  return (used.user + used.system) / iterations;
}

export const decideBenchmark: Benchmark = {
  name: 'decide',
  description: 'CPU µs of each decision on a heartbeat job’s path, in process, no I/O',
  async run(scale) {
    const { iterations, rounds } = sizes[scale];
    const all = cases();
    const samples = new Map(all.map((c) => [c.name, [] as number[]]));
    // Rounds interleave the cases, so a slow moment of the machine touches all of them alike.
    for (const c of all) cpuMicrosPerCall(c.run, iterations / 4);
    for (let r = 0; r < rounds; r++) {
      for (const c of all) samples.get(c.name)!.push(cpuMicrosPerCall(c.run, iterations));
    }
    const med = (name: string) => median(samples.get(name)!);
    const perJob =
      med('run_now') +
      med('create_and_queue_job') +
      med('start_job') +
      med('complete_job') +
      med('record_job_outcomes_5') / 5 +
      5 * med('encode_and_decode_commit');
    return {
      workload: {
        iterations_per_round: iterations,
        rounds,
        workflow: `HEARTBEAT, ${ACTIVE_JOBS} jobs active`,
        measure: 'process CPU (user + system) per call, median of the rounds',
      },
      cpu_us: Object.fromEntries(
        [...samples].map(([name, s]) => [name, { median: round(med(name)), rounds: s.map((v) => round(v)) }]),
      ),
      per_job_us: {
        what: 'one of each decision on a job’s path (its end recorded in a group of 5), and five commits each decoded, encoded and decoded again',
        median: round(perJob),
      },
    };
  },
};
