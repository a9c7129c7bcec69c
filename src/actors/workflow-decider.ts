// Decides the workflow's commands against its current state: lifecycle, builds, ticks and the
// consecutive-failure count that terminates a workflow.

import { assertNever } from '../assert.ts';
import { ConflictError, NotFoundError, PreconditionFailedError, ValidationError } from '../errors.ts';
import { nameBasedUuid } from '../events/name-based-id.ts';
import {
  type Backfill,
  CHAIN_MAX_DEPTH,
  type ChainSkipped,
  type RecordJobOutcome,
  type TicksWithdrawn,
  type WorkflowCommand,
  type WorkflowDefinitionChanges,
  type WorkflowEvent,
} from '../events/workflow-events.ts';
import { jitteredTime } from '../workflows/jitter.ts';
import { type DecideContext, evolve, makeDecider } from './aggregate.ts';
import { requireInstant, requireText, sameJson } from './decision-input.ts';
import {
  checkChain,
  checkChanges,
  checkKind,
  checkLogRetention,
  checkMaxFailures,
  checkName,
  checkPayload,
  checkSchedule,
} from './workflow-definition.ts';
import {
  type WorkflowMachine,
  type WorkflowSnapshot,
  workflowMachine,
  workflowStatus,
} from './workflow-machine.ts';

function decideWorkflow(
  command: WorkflowCommand,
  state: WorkflowSnapshot,
  ctx: DecideContext,
): readonly WorkflowEvent[] {
  const { lifecycle, build } = workflowStatus(state);
  if (command.type === 'CreateWorkflow') {
    if (lifecycle !== 'new') {
      throw new ConflictError('workflow_already_exists', 'The workflow already exists');
    }
    const kind = checkKind(command.data.kind);
    const created: WorkflowEvent = {
      type: 'WorkflowCreated',
      data: {
        workflow_id: requireText('workflow_id', command.data.workflow_id, 'invalid_id'),
        user_id: requireText('user_id', command.data.user_id, 'invalid_id'),
        name: checkName(command.data.name),
        kind,
        payload: checkPayload(kind, command.data.payload),
        schedule: checkSchedule(command.data.schedule),
        max_consecutive_job_failures_allowed: checkMaxFailures(
          command.data.max_consecutive_job_failures_allowed,
        ),
        // Always written, so that a reader of the event never has to know the default.
        log_retention: checkLogRetention(command.data.log_retention),
        ...(command.data.chain === undefined ? {} : { chain: checkChain(command.data.chain) }),
      },
    };
    // A HEARTBEAT has no image: its build is complete once its definition is valid, which it now is.
    return kind === 'CONTAINER'
      ? [created, { type: 'WorkflowBuildQueued', data: {} }]
      : [created, { type: 'WorkflowBuildCompleted', data: {} }];
  }
  if (lifecycle === 'new' || lifecycle === 'deleted') {
    throw new NotFoundError('workflow_not_found', 'The workflow does not exist');
  }
  const context = state.context;
  const terminated = lifecycle === 'terminated';

  switch (command.type) {
    case 'UpdateWorkflow': {
      if (terminated) throw refuseTerminated();
      const changes = changedFields(state, checkChanges(context.kind, command.data));
      if (Object.keys(changes).length === 0) return [];
      // A new image, cmd or anything else in a CONTAINER payload needs a new build; a schedule only
      // needs rescheduling, which the scheduler derives from the event.
      const rebuild = context.kind === 'CONTAINER' && changes.payload !== undefined;
      const updated: WorkflowEvent = { type: 'WorkflowUpdated', data: { changes, rebuild } };
      // A run limit lowered to what has already fired ends the workflow now, as reaching it would.
      const limit = changes.schedule?.max_runs;
      if (limit !== undefined && context.runs_fired >= limit) {
        return [
          updated,
          { type: 'WorkflowTerminated', data: { reason: 'run_limit' } },
          ...withdrawAhead(state, ctx.now, 'terminated'),
        ];
      }
      if (!rebuild || build === 'QUEUED') return [updated];
      // A build in progress works on the old definition: cancel it so that its result is refused.
      return build === 'STARTED'
        ? [updated, { type: 'WorkflowBuildCanceled', data: {} }, { type: 'WorkflowBuildQueued', data: {} }]
        : [updated, { type: 'WorkflowBuildQueued', data: {} }];
    }
    case 'StartWorkflowBuild':
      if (terminated) throw refuseTerminated();
      if (build !== 'QUEUED') {
        throw new ConflictError('build_not_queued', `No build is queued (build is ${build})`);
      }
      return [{ type: 'WorkflowBuildStarted', data: {} }];
    case 'CompleteWorkflowBuild':
      if (build !== 'STARTED') throw refuseBuildNotStarted(build);
      return [
        {
          type: 'WorkflowBuildCompleted',
          data: command.data.image_digest === undefined ? {} : { image_digest: command.data.image_digest },
        },
      ];
    case 'FailWorkflowBuild':
      if (build !== 'STARTED') throw refuseBuildNotStarted(build);
      return [{ type: 'WorkflowBuildFailed', data: { reason: requireText('reason', command.data.reason) } }];
    case 'PauseWorkflow':
      if (terminated) throw refuseTerminated();
      if (lifecycle === 'paused') {
        throw new ConflictError('workflow_already_paused', 'The workflow is already paused');
      }
      return [{ type: 'WorkflowPaused', data: {} }, ...withdrawAhead(state, ctx.now, 'paused')];
    case 'ResumeWorkflow':
      if (terminated) throw refuseTerminated();
      if (lifecycle !== 'paused') {
        throw new ConflictError('workflow_not_paused', 'The workflow is not paused');
      }
      return [{ type: 'WorkflowResumed', data: {} }];
    case 'TerminateWorkflow':
      if (terminated) {
        throw new ConflictError('workflow_already_terminated', 'The workflow is already terminated');
      }
      return [
        { type: 'WorkflowTerminated', data: { reason: 'user' } },
        ...withdrawAhead(state, ctx.now, 'terminated'),
      ];
    case 'DeleteWorkflow':
      if (!terminated) {
        throw new PreconditionFailedError(
          'workflow_not_terminated',
          'Only a terminated workflow can be deleted',
        );
      }
      if (context.active_job_ids.length > 0) {
        throw new PreconditionFailedError(
          'workflow_has_active_jobs',
          'The workflow still has jobs that have not finished',
          {
            details: { active_job_ids: context.active_job_ids },
          },
        );
      }
      return [{ type: 'WorkflowDeleted', data: {} }];
    case 'FireTick': {
      const nominal_at = requireInstant('nominal_at', command.data.nominal_at);
      const job_id = requireText('job_id', command.data.job_id, 'invalid_id');
      // Ticks only move forward: a tick at or before the last one decided is a repeat, and a repeat
      // is a no-op so that a scheduler may retry or race another replica safely.
      if (isAtOrBeforeLastTick(context.last_tick_at, nominal_at)) return [];
      refuseOutOfOrder(state, command.data.after);
      const skip = (reason: 'paused' | 'terminated' | 'not_built' | 'overlap'): readonly WorkflowEvent[] => [
        { type: 'TickSkipped', data: { nominal_at, reason } },
      ];
      if (terminated) return skip('terminated');
      const overlap = command.data.overlap ?? 'allow';
      if (command.data.ahead === true) {
        // Decided ahead, the tick fires only if nothing before its nominal time can change the answer:
        // an earlier job still active may end or not, a pause may end or not, a build may complete.
        // Anything else stays undecided (no event) and is decided when due, as if there were no
        // lookahead. A withdrawn tick is only decided again when due (see TicksWithdrawn).
        const settled =
          lifecycle === 'active' &&
          build === 'COMPLETED' &&
          (overlap === 'allow' || context.active_job_ids.length === 0) &&
          !context.withdrawn_ticks.some((t) => Date.parse(t.nominal_at) >= Date.parse(nominal_at));
        if (!settled) return [];
        if (isKnownJob(state, job_id)) throw refuseJobIdTaken(job_id);
        return withinRunLimit(state, {
          type: 'JobScheduled',
          data: {
            job_id,
            scheduled_at: nominal_at,
            ...fireAt(state, nominal_at),
            trigger: 'AUTOMATIC',
            ahead: true,
          },
        });
      }
      if (lifecycle === 'paused') return skip('paused');
      if (build !== 'COMPLETED') return skip('not_built');
      if (overlap === 'skip' && context.active_job_ids.length > 0) return skip('overlap');
      if (overlap === 'queue_one' && context.active_job_ids.length > 1) return skip('overlap');
      // A tick withdrawn by a pause gets a job of its own: the withdrawn one was canceled.
      const withdrawn = context.withdrawn_ticks.find(
        (t) => t.nominal_at === nominal_at && t.job_id === job_id,
      );
      const jobId = withdrawn ? nameBasedUuid(`${job_id}\nafter withdrawal`) : job_id;
      if (isKnownJob(state, jobId)) throw refuseJobIdTaken(jobId);
      const replaces =
        overlap === 'cancel_running' && context.active_job_ids.length > 0
          ? { replaces: [...context.active_job_ids] }
          : overlap === 'queue_one' && context.active_job_ids.length > 0
            ? { waits_for: [...context.active_job_ids] }
            : {};
      return withinRunLimit(state, {
        type: 'JobScheduled',
        data: {
          job_id: jobId,
          scheduled_at: nominal_at,
          ...fireAt(state, nominal_at),
          trigger: 'AUTOMATIC',
          ...replaces,
        },
      });
    }
    case 'SkipTick': {
      const nominal_at = requireInstant('nominal_at', command.data.nominal_at);
      if (isAtOrBeforeLastTick(context.last_tick_at, nominal_at)) return [];
      refuseOutOfOrder(state, command.data.after);
      // Held back for the catch-up on resume, then given up while paused: if the workflow was resumed
      // meanwhile, the tick must be planned as an active one instead (it may have to fire).
      if (command.data.reason === 'paused' && lifecycle !== 'paused') {
        throw new ConflictError('workflow_not_paused', 'The workflow is not paused');
      }
      return [{ type: 'TickSkipped', data: { nominal_at, reason: command.data.reason } }];
    }
    case 'RunNow': {
      const job_id = requireText('job_id', command.data.job_id, 'invalid_id');
      if (terminated) throw refuseTerminated();
      if (build !== 'COMPLETED') {
        throw new ConflictError(
          'workflow_not_built',
          `The workflow cannot run before its build completes (build is ${build})`,
        );
      }
      // The same run-now retried (same job id) is a no-op.
      if (isKnownJob(state, job_id)) return [];
      return [
        { type: 'JobScheduled', data: { job_id, scheduled_at: ctx.now.toISOString(), trigger: 'MANUAL' } },
      ];
    }
    case 'Backfill':
      return backfill(state, command, ctx.now);
    case 'ChainRun': {
      const { job_id, caused_by } = command.data;
      requireText('job_id', job_id, 'invalid_id');
      // Redelivered (or asked twice): the chained job is already known.
      if (isKnownJob(state, job_id)) return [];
      const skip = (reason: ChainSkipped['data']['reason']): readonly WorkflowEvent[] => [
        { type: 'ChainSkipped', data: { caused_by, target: context.workflow_id, reason } },
      ];
      if (terminated) return skip('terminated');
      if (lifecycle === 'paused') return skip('paused');
      if (build !== 'COMPLETED') return skip('not_built');
      if (caused_by.depth > CHAIN_MAX_DEPTH) return skip('depth_exceeded');
      return [
        {
          type: 'JobScheduled',
          data: { job_id, scheduled_at: ctx.now.toISOString(), trigger: 'CHAIN', caused_by },
        },
      ];
    }
    case 'RecordChainSkip':
      return [{ type: 'ChainSkipped', data: command.data }];
    case 'RecordJobOutcome':
      return recordOutcome(state, command, ctx.now);
    case 'RecordJobOutcomes': {
      // Each outcome decided on the state the ones before it leave (the failure count runs on).
      let current = state;
      const events: WorkflowEvent[] = [];
      for (const data of command.data.outcomes) {
        const decided = recordOutcome(current, { type: 'RecordJobOutcome', data }, ctx.now);
        for (const e of decided) current = evolve(workflowMachine, current, e);
        events.push(...decided);
      }
      return events;
    }
    default:
      return assertNever(command);
  }
}

/** The job of a backfilled tick: one id per workflow and nominal time, whichever backfill fires it. */
export function backfillJobId(workflowId: string, nominal: string): string {
  return nameBasedUuid(`backfill\n${workflowId}\n${nominal}`);
}

/**
 * A backfill fires, in one commit, every given tick no earlier backfill covered: the same range asked
 * again (a retried request) fires nothing, an overlapping one only what is new. Ticks are past ones:
 * a tick not before `now` would also be fired by the scheduler when due.
 */
function backfill(state: WorkflowSnapshot, command: Backfill, now: Date): readonly WorkflowEvent[] {
  const { lifecycle, build } = workflowStatus(state);
  if (lifecycle === 'terminated') throw refuseTerminated();
  if (build !== 'COMPLETED') {
    throw new ConflictError(
      'workflow_not_built',
      `The workflow cannot run before its build completes (build is ${build})`,
    );
  }
  const { backfill_id, overlap } = command.data;
  requireText('backfill_id', backfill_id, 'invalid_id');
  const from = requireInstant('from', command.data.from);
  const to = requireInstant('to', command.data.to);
  if (Date.parse(from) >= Date.parse(to)) {
    throw new ValidationError('invalid_range', '`from` must be before `to`', { field: 'from' });
  }
  if (Date.parse(to) > now.getTime()) {
    throw new ValidationError(
      'backfill_in_future',
      '`to` must not be after now: the scheduler fires what is due',
      {
        field: 'to',
      },
    );
  }
  if (overlap !== 'allow' && overlap !== 'buffer') {
    throw new ValidationError('invalid_overlap', 'overlap must be allow or buffer', { field: 'overlap' });
  }
  const context = state.context;
  // Asked before (the same id: the same range): nothing new.
  if (context.backfilled.some((r) => r.from === from && r.to === to)) return [];
  const covered = (at: number) =>
    context.backfilled.some((r) => Date.parse(r.from) <= at && at < Date.parse(r.to));
  const ticks = [...new Set(command.data.nominal_ats.map((t) => requireInstant('nominal_ats', t)))]
    .filter((t) => Date.parse(t) >= Date.parse(from) && Date.parse(t) < Date.parse(to))
    .sort();
  const fresh = ticks.filter((t) => !covered(Date.parse(t)));
  const events: WorkflowEvent[] = [
    {
      type: 'BackfillRequested',
      data: { backfill_id, from, to, overlap, jobs: fresh.length, covered: ticks.length - fresh.length },
    },
  ];
  let previous: string | undefined;
  for (const nominal of fresh) {
    const job_id = backfillJobId(context.workflow_id, nominal);
    if (isKnownJob(state, job_id)) continue;
    events.push({
      type: 'JobScheduled',
      data: {
        job_id,
        scheduled_at: nominal,
        trigger: 'BACKFILL',
        backfill_id,
        ...(overlap === 'buffer' && previous ? { waits_for: [previous] } : {}),
      },
    });
    previous = job_id;
  }
  return events;
}

function recordOutcome(
  state: WorkflowSnapshot,
  command: RecordJobOutcome,
  now: Date,
): readonly WorkflowEvent[] {
  const context = state.context;
  const { job_id, outcome } = command.data;
  // Not active: already recorded (maybe longer ago than the workflow remembers) or never ours.
  if (!context.active_job_ids.includes(job_id)) return [];
  const consecutive_failures =
    outcome === 'FAILED'
      ? context.consecutive_failures + 1
      : outcome === 'COMPLETED'
        ? 0
        : context.consecutive_failures;
  const recorded: WorkflowEvent = {
    type: 'JobOutcomeRecorded',
    data: { job_id, outcome, consecutive_failures },
  };
  const { lifecycle } = workflowStatus(state);
  const reachedLimit =
    outcome === 'FAILED' && consecutive_failures >= context.max_consecutive_job_failures_allowed;
  const afterRecord = evolve(workflowMachine, state, recorded);
  // A queue_one job whose wait is over is queued now.
  const released: WorkflowEvent[] = afterRecord.context.held_jobs
    .filter((h) => h.waits_for.length === 0)
    .map((h) => ({ type: 'JobReleased', data: { job_id: h.job_id } }));
  if (reachedLimit && (lifecycle === 'active' || lifecycle === 'paused')) {
    return [
      recorded,
      ...released,
      { type: 'WorkflowTerminated', data: { reason: 'consecutive_failures' } },
      ...withdrawAhead(afterRecord, now, 'terminated'),
    ];
  }
  return [recorded, ...released];
}

/**
 * Whether the record of these job ends may wait to be gathered with later ones, its jobs staying
 * active on the workflow meanwhile: true only when nothing the workflow decides or starts depends on
 * them. A busy workflow's ends then take one commit for many instead of one each. Not when an
 * overlap policy other than `allow` reads the active jobs, a held job waits for them (queue_one, a
 * buffered backfill), a chain starts on them, a failure count is to be reset, or the workflow is
 * terminated (its deletion waits for them); nor for a failure or a cancel, which are counted or
 * chained.
 */
export function jobEndsMayWaitForRecord(
  state: WorkflowSnapshot,
  outcomes: readonly RecordJobOutcome['data']['outcome'][],
): boolean {
  const { context } = state;
  const { lifecycle } = workflowStatus(state);
  return (
    outcomes.every((o) => o === 'COMPLETED') &&
    (lifecycle === 'active' || lifecycle === 'paused') &&
    (context.schedule.overlap ?? 'allow') === 'allow' &&
    context.held_jobs.length === 0 &&
    !context.chain?.on_success?.length &&
    !context.chain?.on_end?.length &&
    context.consecutive_failures === 0
  );
}

/** With the schedule's jitter, when the tick's job starts: computed here, so every replica agrees. */
function fireAt(state: WorkflowSnapshot, nominal: string): { fire_at?: string } {
  const { workflow_id, schedule } = state.context;
  return schedule.jitter_seconds
    ? { fire_at: jitteredTime(workflow_id, nominal, schedule.jitter_seconds) }
    : {};
}

/**
 * A scheduled fire, and the end of the workflow when it is the schedule's last (`max_runs`): in the
 * same commit, so no replica can fire one more in between. Its job runs; later ticks are skipped.
 */
function withinRunLimit(state: WorkflowSnapshot, fired: WorkflowEvent): readonly WorkflowEvent[] {
  const limit = state.context.schedule.max_runs;
  if (limit === undefined || state.context.runs_fired + 1 < limit) return [fired];
  return [fired, { type: 'WorkflowTerminated', data: { reason: 'run_limit' } }];
}

/**
 * The ticks fired ahead whose nominal time has not come: a pause or a termination withdraws them, so
 * that what runs is what would have run had every tick been decided when due.
 */
function withdrawAhead(
  state: WorkflowSnapshot,
  now: Date,
  reason: TicksWithdrawn['data']['reason'],
): readonly WorkflowEvent[] {
  const pending = state.context.ahead_ticks.filter(
    (t) =>
      Date.parse(t.fire_at ?? t.nominal_at) > now.getTime() &&
      state.context.active_job_ids.includes(t.job_id),
  );
  const first = pending[0];
  if (!first) return [];
  return [
    {
      type: 'TicksWithdrawn',
      data: {
        reason,
        ticks: pending.map(({ nominal_at, job_id }) => ({ nominal_at, job_id })),
        last_tick_at: first.previous_tick_at,
        last_fired_at: first.previous_fired_at,
      },
    },
  ];
}

/**
 * After a withdrawal the ledger moved back; a scheduler that decides from an older position would
 * step over the withdrawn ticks and leave them without an event. It is told where the ledger is.
 */
function refuseOutOfOrder(state: WorkflowSnapshot, after: string | null | undefined): void {
  const { withdrawn_ticks, last_tick_at } = state.context;
  if (withdrawn_ticks.length === 0 || (after ?? null) === last_tick_at) return;
  throw new ConflictError(
    'tick_out_of_order',
    `The workflow's last decided tick is ${last_tick_at ?? 'none'}, not ${after ?? 'none'}`,
    { details: { last_tick_at } },
  );
}

/** Only the fields whose value differs from the current definition. */
function changedFields(
  state: WorkflowSnapshot,
  changes: WorkflowDefinitionChanges,
): WorkflowDefinitionChanges {
  const c = state.context;
  return {
    ...(changes.name === undefined || changes.name === c.name ? {} : { name: changes.name }),
    ...(changes.payload === undefined || sameJson(changes.payload, c.payload)
      ? {}
      : { payload: changes.payload }),
    ...(changes.schedule === undefined || sameJson(changes.schedule, c.schedule)
      ? {}
      : { schedule: changes.schedule }),
    ...(changes.max_consecutive_job_failures_allowed === undefined ||
    changes.max_consecutive_job_failures_allowed === c.max_consecutive_job_failures_allowed
      ? {}
      : { max_consecutive_job_failures_allowed: changes.max_consecutive_job_failures_allowed }),
    ...(changes.log_retention === undefined || changes.log_retention === c.log_retention
      ? {}
      : { log_retention: changes.log_retention }),
    ...(changes.chain === undefined || sameJson(changes.chain, c.chain ?? {})
      ? {}
      : { chain: changes.chain }),
  };
}

function isAtOrBeforeLastTick(last: string | null, nominal: string): boolean {
  return last !== null && Date.parse(nominal) <= Date.parse(last);
}

function isKnownJob(state: WorkflowSnapshot, jobId: string): boolean {
  return state.context.active_job_ids.includes(jobId) || state.context.recorded_job_ids.includes(jobId);
}

function refuseTerminated(): ConflictError {
  return new ConflictError('workflow_terminated', 'The workflow is terminated');
}

function refuseBuildNotStarted(build: string): ConflictError {
  return new ConflictError('build_not_started', `No build is running (build is ${build})`);
}

function refuseJobIdTaken(jobId: string): ConflictError {
  return new ConflictError('job_id_taken', `Job ${jobId} is already scheduled for this workflow`);
}

export const workflowDecider = makeDecider<WorkflowMachine, WorkflowCommand>(
  'workflow',
  workflowMachine,
  decideWorkflow,
);
