// The workflow actor as a pure XState machine whose events are the workflow's domain events (its
// evolve). Before WorkflowCreated it is `new`; while it exists two regions run side by side:
// `lifecycle` (active, paused, terminated) and `build` (NONE, QUEUED … CANCELED); `deleted` is final.
import { and, assign, type SnapshotFrom, setup, stateIn } from 'xstate';
import type {
  JsonObject,
  WorkflowDefinitionChanges,
  WorkflowEvent,
  WorkflowKind,
  WorkflowSchedule,
} from '../events/workflow-events.ts';

/** How many recorded job outcomes a workflow remembers, to ignore a repeated outcome. */
export const RECORDED_OUTCOMES_KEPT = 100;

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
  /** The last RECORDED_OUTCOMES_KEPT jobs whose outcome was recorded, oldest first. */
  readonly recorded_job_ids: readonly string[];
  /** 1 at creation, +1 per WorkflowUpdated. */
  readonly definition_version: number;
  readonly image_digest: string | null;
  readonly build_failure_reason: string | null;
  readonly terminated_reason: 'user' | 'consecutive_failures' | null;
};

const EMPTY_CONTEXT: WorkflowContext = {
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
  recorded_job_ids: [],
  definition_version: 0,
  image_digest: null,
  build_failure_reason: null,
  terminated_reason: null,
};

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
    definition_version: context.definition_version + 1,
  };
}

export const workflowMachine = setup({
  types: { context: {} as WorkflowContext, events: {} as WorkflowEvent },
  guards: {
    isBuilt: stateIn('#workflow.live.build.COMPLETED'),
    isManualRun: ({ event }) => event.type === 'JobScheduled' && event.data.trigger === 'MANUAL',
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
          actions: assign(({ event }) => ({ last_tick_at: event.data.nominal_at })),
        },
        JobOutcomeRecorded: {
          actions: assign(({ context, event }) => ({
            consecutive_failures: event.data.consecutive_failures,
            active_job_ids: context.active_job_ids.filter((id) => id !== event.data.job_id),
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
                    ...(event.data.trigger === 'AUTOMATIC'
                      ? { last_fired_at: event.data.scheduled_at, last_tick_at: event.data.scheduled_at }
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
