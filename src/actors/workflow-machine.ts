// The workflow actor as a pure XState machine whose events are the workflow's domain events (its
// evolve). Before WorkflowCreated it is `new`; while it exists two regions run side by side:
// `lifecycle` (active, paused, terminated) and `build` (NONE, QUEUED … CANCELED); `deleted` is final.

import { and, assign, type SnapshotFrom, setup, stateIn } from 'xstate';
import type {
  JsonObject,
  WorkflowChain,
  WorkflowDefinitionChanges,
  WorkflowEvent,
  WorkflowKind,
  WorkflowSchedule,
} from '../events/workflow-events.ts';
import { fastContext } from './aggregate.ts';

/** How many recorded job outcomes a workflow remembers, to ignore a repeated outcome. */
export const RECORDED_OUTCOMES_KEPT = 100;
/** How many ticks decided ahead a workflow remembers: far more than one lookahead window holds. */
export const AHEAD_TICKS_KEPT = 1000;

/** A tick fired before it was due, with the ledger's position before it (to withdraw it). */
export type AheadTick = {
  readonly nominal_at: string;
  /** With jitter: when its job is to start (a pause before then still withdraws it). */
  readonly fire_at?: string;
  readonly job_id: string;
  readonly previous_tick_at: string | null;
  readonly previous_fired_at: string | null;
};

export type WorkflowContext = {
  readonly workflow_id: string;
  readonly user_id: string;
  readonly name: string;
  readonly kind: WorkflowKind;
  readonly payload: JsonObject;
  readonly schedule: WorkflowSchedule;
  readonly max_consecutive_job_failures_allowed: number;
  /** false: the lines of jobs created from now on are not stored. */
  readonly log_retention: boolean;
  readonly consecutive_failures: number;
  /** Nominal time of the last tick that fired a job. */
  readonly last_fired_at: string | null;
  /** Nominal time of the last tick decided either way (fired or skipped): ticks only move forward. */
  readonly last_tick_at: string | null;
  /** Jobs scheduled whose outcome has not been recorded yet. */
  readonly active_job_ids: readonly string[];
  /** Ticks fired ahead of their nominal time, oldest first; those not yet due can be withdrawn. */
  readonly ahead_ticks: readonly AheadTick[];
  /** Jobs of `queue_one` ticks created but not queued: each waits for the jobs listed to end. */
  readonly held_jobs: readonly { readonly job_id: string; readonly waits_for: readonly string[] }[];
  /** Ticks withdrawn by a pause and not decided again yet, oldest first (see TicksWithdrawn). */
  readonly withdrawn_ticks: readonly { readonly nominal_at: string; readonly job_id: string }[];
  /** The last RECORDED_OUTCOMES_KEPT jobs whose outcome was recorded, oldest first. */
  readonly recorded_job_ids: readonly string[];
  /** 1 at creation, +1 per WorkflowUpdated. */
  readonly definition_version: number;
  readonly image_digest: string | null;
  readonly build_failure_reason: string | null;
  readonly terminated_reason: 'user' | 'consecutive_failures' | 'run_limit' | null;
  /** Scheduled fires so far (JobScheduled AUTOMATIC; run-nows are not counted): max_runs counts these. */
  readonly runs_fired: number;
  /** Other workflows to run when a job of this one ends (absent in events before chains: none). */
  readonly chain?: WorkflowChain;
  /** The ranges earlier backfills covered, [from, to) as ISO instants: their ticks never fire again. */
  readonly backfilled: readonly { readonly from: string; readonly to: string }[];
};

const EMPTY_CONTEXT: WorkflowContext = fastContext({
  workflow_id: '',
  user_id: '',
  name: '',
  kind: 'HEARTBEAT',
  payload: {},
  schedule: { type: 'interval', minutes: 1 },
  max_consecutive_job_failures_allowed: 3,
  // A WorkflowCreated from before the field existed has none: those workflows kept their lines.
  log_retention: true,
  consecutive_failures: 0,
  last_fired_at: null,
  last_tick_at: null,
  active_job_ids: [],
  ahead_ticks: [],
  held_jobs: [],
  withdrawn_ticks: [],
  recorded_job_ids: [],
  definition_version: 0,
  image_digest: null,
  build_failure_reason: null,
  terminated_reason: null,
  runs_fired: 0,
  backfilled: [],
  chain: undefined,
});

function applyChanges(
  context: WorkflowContext,
  changes: WorkflowDefinitionChanges,
): Partial<WorkflowContext> {
  return {
    name: changes.name ?? context.name,
    payload: changes.payload ?? context.payload,
    schedule: changes.schedule ?? context.schedule,
    max_consecutive_job_failures_allowed:
      changes.max_consecutive_job_failures_allowed ?? context.max_consecutive_job_failures_allowed,
    log_retention: changes.log_retention ?? context.log_retention,
    chain: changes.chain ?? context.chain,
    definition_version: context.definition_version + 1,
  };
}

/** A job that waits for others (queue_one, a buffered backfill) before it is queued. */
function heldJob(context: WorkflowContext, event: WorkflowEvent): Partial<WorkflowContext> {
  if (event.type !== 'JobScheduled' || !event.data.waits_for?.length) return {};
  return {
    held_jobs: [...context.held_jobs, { job_id: event.data.job_id, waits_for: [...event.data.waits_for] }],
  };
}

/** A tick at `nominal` was decided: the withdrawn ticks up to it are settled. */
function settleWithdrawn(context: WorkflowContext, nominal: string): Partial<WorkflowContext> {
  if (context.withdrawn_ticks.length === 0) return {};
  const at = Date.parse(nominal);
  return { withdrawn_ticks: context.withdrawn_ticks.filter((t) => Date.parse(t.nominal_at) > at) };
}

export const workflowMachine = setup({
  types: { context: {} as WorkflowContext, events: {} as WorkflowEvent },
  guards: {
    isBuilt: stateIn('#workflow.live.build.COMPLETED'),
    isManualRun: ({ event }) => event.type === 'JobScheduled' && event.data.trigger !== 'AUTOMATIC',
    isHeartbeat: ({ context }) => context.kind === 'HEARTBEAT',
    hasNoActiveJobs: ({ context }) => context.active_job_ids.length === 0,
  },
}).createMachine({
  id: 'workflow',
  initial: 'new',
  context: EMPTY_CONTEXT,
  states: {
    new: {
      on: {
        WorkflowCreated: {
          target: 'live',
          actions: assign(({ event }) => ({ ...EMPTY_CONTEXT, ...event.data, definition_version: 1 })),
        },
      },
    },
    live: {
      type: 'parallel',
      on: {
        TickSkipped: {
          actions: assign(({ context, event }) => ({
            last_tick_at: event.data.nominal_at,
            ...settleWithdrawn(context, event.data.nominal_at),
          })),
        },
        TicksWithdrawn: {
          actions: assign(({ context, event }) => {
            const jobs = new Set(event.data.ticks.map((t) => t.job_id));
            return {
              active_job_ids: context.active_job_ids.filter((id) => !jobs.has(id)),
              ahead_ticks: context.ahead_ticks.filter((t) => !jobs.has(t.job_id)),
              // Known from now on: its cancel's outcome changes nothing, and its id is not reused.
              recorded_job_ids: [...context.recorded_job_ids, ...jobs].slice(-RECORDED_OUTCOMES_KEPT),
              ...(event.data.reason === 'paused'
                ? {
                    withdrawn_ticks: [
                      ...context.withdrawn_ticks,
                      ...event.data.ticks.map(({ nominal_at, job_id }) => ({ nominal_at, job_id })),
                    ],
                    last_tick_at: event.data.last_tick_at,
                    last_fired_at: event.data.last_fired_at,
                  }
                : {}),
            };
          }),
        },
        // A chained run that did not happen: history only.
        ChainSkipped: { actions: assign(() => ({})) },
        BackfillRequested: {
          actions: assign(({ context, event }) => ({
            backfilled: [...context.backfilled, { from: event.data.from, to: event.data.to }],
          })),
        },
        JobReleased: {
          actions: assign(({ context, event }) => ({
            held_jobs: context.held_jobs.filter((h) => h.job_id !== event.data.job_id),
          })),
        },
        JobOutcomeRecorded: {
          actions: assign(({ context, event }) => ({
            consecutive_failures: event.data.consecutive_failures,
            active_job_ids: context.active_job_ids.filter((id) => id !== event.data.job_id),
            ahead_ticks: context.ahead_ticks.some((t) => t.job_id === event.data.job_id)
              ? context.ahead_ticks.filter((t) => t.job_id !== event.data.job_id)
              : context.ahead_ticks,
            held_jobs:
              context.held_jobs.length === 0
                ? context.held_jobs
                : context.held_jobs
                    .filter((h) => h.job_id !== event.data.job_id)
                    .map((h) => ({ ...h, waits_for: h.waits_for.filter((id) => id !== event.data.job_id) })),
            recorded_job_ids: [...context.recorded_job_ids, event.data.job_id].slice(-RECORDED_OUTCOMES_KEPT),
          })),
        },
      },
      states: {
        lifecycle: {
          initial: 'active',
          states: {
            active: {
              on: {
                WorkflowUpdated: {
                  actions: assign(({ context, event }) => applyChanges(context, event.data.changes)),
                },
                JobScheduled: {
                  guard: 'isBuilt',
                  actions: assign(({ context, event }) => ({
                    active_job_ids: [...context.active_job_ids, event.data.job_id],
                    ...heldJob(context, event),
                    ...(event.data.trigger === 'AUTOMATIC'
                      ? {
                          runs_fired: context.runs_fired + 1,
                          last_fired_at: event.data.scheduled_at,
                          last_tick_at: event.data.scheduled_at,
                          ...settleWithdrawn(context, event.data.scheduled_at),
                          ...(event.data.ahead
                            ? {
                                ahead_ticks: [
                                  ...context.ahead_ticks,
                                  {
                                    nominal_at: event.data.scheduled_at,
                                    ...(event.data.fire_at ? { fire_at: event.data.fire_at } : {}),
                                    job_id: event.data.job_id,
                                    previous_tick_at: context.last_tick_at,
                                    previous_fired_at: context.last_fired_at,
                                  },
                                ].slice(-AHEAD_TICKS_KEPT),
                              }
                            : {}),
                        }
                      : {}),
                  })),
                },
                WorkflowPaused: { target: 'paused' },
                WorkflowTerminated: {
                  target: 'terminated',
                  actions: assign(({ event }) => ({ terminated_reason: event.data.reason })),
                },
              },
            },
            paused: {
              on: {
                WorkflowUpdated: {
                  actions: assign(({ context, event }) => applyChanges(context, event.data.changes)),
                },
                // A paused workflow does not fire ticks, but the user may still run it now.
                JobScheduled: {
                  guard: and(['isBuilt', 'isManualRun']),
                  actions: assign(({ context, event }) => ({
                    active_job_ids: [...context.active_job_ids, event.data.job_id],
                    ...heldJob(context, event),
                  })),
                },
                WorkflowResumed: { target: 'active' },
                WorkflowTerminated: {
                  target: 'terminated',
                  actions: assign(({ event }) => ({ terminated_reason: event.data.reason })),
                },
              },
            },
            terminated: {
              on: {
                WorkflowDeleted: {
                  target: '#workflow.deleted',
                  guard: 'hasNoActiveJobs',
                },
              },
            },
          },
        },
        build: {
          initial: 'NONE',
          states: {
            NONE: {
              on: {
                WorkflowBuildQueued: { target: 'QUEUED' },
                // A HEARTBEAT has nothing to build: it is complete as soon as it is created.
                WorkflowBuildCompleted: { target: 'COMPLETED', guard: 'isHeartbeat' },
              },
            },
            QUEUED: {
              on: {
                WorkflowBuildStarted: { target: 'STARTED' },
                WorkflowBuildCanceled: { target: 'CANCELED' },
              },
            },
            STARTED: {
              on: {
                WorkflowBuildCompleted: {
                  target: 'COMPLETED',
                  actions: assign(({ event }) => ({
                    image_digest: event.data.image_digest ?? null,
                    build_failure_reason: null,
                  })),
                },
                WorkflowBuildFailed: {
                  target: 'FAILED',
                  actions: assign(({ event }) => ({ build_failure_reason: event.data.reason })),
                },
                WorkflowBuildCanceled: { target: 'CANCELED' },
              },
            },
            COMPLETED: { on: { WorkflowBuildQueued: { target: 'QUEUED' } } },
            FAILED: { on: { WorkflowBuildQueued: { target: 'QUEUED' } } },
            CANCELED: { on: { WorkflowBuildQueued: { target: 'QUEUED' } } },
          },
        },
      },
    },
    deleted: { type: 'final' },
  },
});

export type WorkflowMachine = typeof workflowMachine;

export type WorkflowLifecycle = 'new' | 'active' | 'paused' | 'terminated' | 'deleted';
export type WorkflowBuildStatus = 'NONE' | 'QUEUED' | 'STARTED' | 'COMPLETED' | 'FAILED' | 'CANCELED';

export type WorkflowSnapshot = SnapshotFrom<WorkflowMachine>;

const LIFECYCLES = ['active', 'paused', 'terminated'] as const;
const BUILDS = ['QUEUED', 'STARTED', 'COMPLETED', 'FAILED', 'CANCELED'] as const;

/** The workflow's state value as two flat tags, easier to decide on than the nested value. */
export function workflowStatus(snapshot: WorkflowSnapshot): {
  readonly lifecycle: WorkflowLifecycle;
  readonly build: WorkflowBuildStatus;
} {
  if (snapshot.matches('new')) return { lifecycle: 'new', build: 'NONE' };
  if (snapshot.matches('deleted')) return { lifecycle: 'deleted', build: 'NONE' };
  const lifecycle = LIFECYCLES.find((l) => snapshot.matches({ live: { lifecycle: l } })) ?? 'active';
  const build = BUILDS.find((b) => snapshot.matches({ live: { build: b } })) ?? 'NONE';
  return { lifecycle, build };
}
