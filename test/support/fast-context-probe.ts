// Run with `node --allow-natives-syntax --import tsx` (src/actors/fast-context.unit.test.ts): folds
// a workflow's and a job's typical histories, and the same after a persisted snapshot is restored,
// and prints for every step whether V8 keeps the actor's context in fast mode (see fastContext in
// src/actors/aggregate.ts). A context that fell back to a dictionary costs every later event of
// the actor a slow copy and every read a hash lookup.
import type { AnyStateMachine, EventFromLogic, SnapshotFrom } from 'xstate';
import { evolve, initialSnapshot, restore, snapshotState } from '../../src/actors/aggregate.ts';
import { jobMachine } from '../../src/actors/job-machine.ts';
import { workflowMachine } from '../../src/actors/workflow-machine.ts';
import type { JobEvent } from '../../src/events/job-events.ts';
import type { WorkflowEvent } from '../../src/events/workflow-events.ts';
import { completed, failed, jobCreated, queued, retryScheduled, started } from './job-fixtures.ts';
import {
  builtContainer,
  fired,
  heartbeatCreated,
  outcomeRecorded,
  paused,
  ranNow,
  resumed,
} from './workflow-fixtures.ts';

const hasFastProperties = new Function('o', 'return %HasFastProperties(o)') as (o: object) => boolean;

export interface ProbeStep {
  readonly history: string;
  readonly step: string;
  readonly fast: boolean;
}

function probe<M extends AnyStateMachine>(
  history: string,
  machine: M,
  events: readonly EventFromLogic<M>[],
  from: SnapshotFrom<M> = initialSnapshot(machine),
): { steps: ProbeStep[]; last: SnapshotFrom<M> } {
  const steps: ProbeStep[] = [];
  let snapshot = from;
  for (const event of events) {
    snapshot = evolve(machine, snapshot, event);
    steps.push({
      history,
      step: event.type,
      fast: hasFastProperties((snapshot as { context: object }).context),
    });
  }
  return { steps, last: snapshot };
}

/** Through JSON, as a snapshot is kept (KV) or sent (a dispatch message). */
function roundTrip<M extends AnyStateMachine>(machine: M, snapshot: SnapshotFrom<M>): SnapshotFrom<M> {
  return restore(machine, JSON.parse(JSON.stringify(snapshotState<M>(snapshot))));
}

const T = (minute: number) => new Date(Date.UTC(2026, 2, 1, 12, minute)).toISOString();
const workflowLife: WorkflowEvent[] = [
  ...builtContainer,
  fired('j1', T(1)),
  fired('j2', T(2)),
  ranNow('j3', T(3)),
  outcomeRecorded('j1', 'COMPLETED', 0),
  outcomeRecorded('j2', 'FAILED', 1),
  paused,
  resumed,
  {
    type: 'WorkflowUpdated',
    data: { changes: { name: 'renamed', chain: { on_success: ['wf2'] } }, rebuild: false },
  },
  fired('j4', T(4)),
];
const chained: WorkflowEvent = {
  type: 'WorkflowCreated',
  data: { ...heartbeatCreated.data, chain: { on_end: ['wf3'] } },
} as WorkflowEvent;
const jobLife: JobEvent[] = [
  { ...jobCreated, data: { ...jobCreated.data, fire_at: T(6) } },
  queued(1),
  started(1),
  failed(1, { will_retry: true }),
  retryScheduled(2, T(7)),
  queued(2),
  { type: 'JobStarted', data: { attempt: 2, executor_id: 'exec-b', claim: 'c2' } },
  completed(2),
];

const steps: ProbeStep[] = [];
const workflow = probe('workflow', workflowMachine, workflowLife);
steps.push(...workflow.steps);
steps.push(...probe('workflow created with a chain', workflowMachine, [chained, fired('j5', T(5))]).steps);
steps.push(
  ...probe(
    'workflow restored',
    workflowMachine,
    [fired('j6', T(8)), outcomeRecorded('j4', 'COMPLETED', 0)],
    roundTrip(workflowMachine, workflow.last),
  ).steps,
);
const job = probe('job', jobMachine, jobLife.slice(0, 3));
steps.push(...job.steps);
steps.push(...probe('job restored', jobMachine, jobLife.slice(3), roundTrip(jobMachine, job.last)).steps);
process.stdout.write(JSON.stringify(steps));
