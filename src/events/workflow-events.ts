// The workflow aggregate's events and commands: one union each, past-tense events, imperative commands.

export type WorkflowKind = 'HEARTBEAT' | 'CONTAINER';
/**
 * AUTOMATIC: a tick of the schedule; MANUAL: a run-now; BACKFILL: a past tick asked for by a
 * backfill; CHAIN: another workflow's job ended (see WorkflowChain).
 */
export type JobTrigger = 'AUTOMATIC' | 'MANUAL' | 'BACKFILL' | 'CHAIN';

/** Other workflows of the same user to run when one of this workflow's jobs ends, by outcome. */
export type WorkflowChain = {
  readonly on_success?: readonly string[];
  readonly on_failure?: readonly string[];
  /** Any end: completed, failed or canceled. */
  readonly on_end?: readonly string[];
};

/** The job whose end started a chained run, and how deep in a chain that run is (1: a direct child). */
export type ChainCause = { readonly workflow_id: string; readonly job_id: string; readonly depth: number };

/** How many runs deep a chain may go: a deeper one is a recorded skip (depth_exceeded). */
export const CHAIN_MAX_DEPTH = 10;
export type JsonObject = Readonly<Record<string, unknown>>;

/** What happens to a tick while an earlier job of the workflow is still pending or running. */
export type OverlapPolicy = 'skip' | 'queue_one' | 'allow' | 'cancel_running';
/** Which ticks missed while the scheduler was down (or the workflow paused) still fire. */
export type CatchUpPolicy = 'latest' | 'all' | 'none';

/** The policies every kind of schedule may carry; absent means the default. */
export type SchedulePolicies = {
  readonly start_at?: string;
  readonly end_at?: string;
  /** Spring forward: `shift` (default) or `skip`; fall back: `once` (default) or `twice`. */
  readonly dst?: { readonly nonexistent?: 'shift' | 'skip'; readonly repeated?: 'once' | 'twice' };
  /** Default `skip`. */
  readonly overlap?: OverlapPolicy;
  /** Default `latest`. */
  readonly catch_up?: CatchUpPolicy;
  /**
   * At most this many scheduled fires (run-nows do not count); the fire that reaches it terminates
   * the workflow in the same commit, with reason `run_limit`. Absent: no limit.
   */
  readonly max_runs?: number;
  /**
   * Each fire is spread over up to this many seconds after its nominal time, by an offset derived
   * from the workflow id and the nominal time (src/workflows/jitter.ts). At most the schedule's
   * shortest gap between ticks; not for a one-off `at`. Absent: fires at the nominal time.
   */
  readonly jitter_seconds?: number;
};

/** How a workflow fires. A union keyed by `type` so that new kinds slot in. */
export type WorkflowSchedule = (
  | { readonly type: 'interval'; readonly minutes: number }
  | { readonly type: 'cron'; readonly cron: string; readonly timezone: string }
  | { readonly type: 'at'; readonly at: string }
) &
  SchedulePolicies;

export type WorkflowDefinitionChanges = {
  readonly name?: string;
  readonly payload?: JsonObject;
  readonly schedule?: WorkflowSchedule;
  readonly max_consecutive_job_failures_allowed?: number;
  readonly log_retention?: boolean;
  readonly chain?: WorkflowChain;
};

/** `dst_skipped`: a local time that did not exist (spring forward) under the DST policy `skip`. */
export type TickSkipReason =
  | 'paused'
  | 'overlap'
  | 'missed'
  | 'terminated'
  | 'end_reached'
  | 'not_built'
  | 'dst_skipped';
export type RecordedJobOutcome = 'COMPLETED' | 'FAILED' | 'CANCELED';

export type WorkflowCreated = {
  readonly type: 'WorkflowCreated';
  readonly data: {
    readonly workflow_id: string;
    readonly user_id: string;
    readonly name: string;
    readonly kind: WorkflowKind;
    readonly payload: JsonObject;
    readonly schedule: WorkflowSchedule;
    readonly max_consecutive_job_failures_allowed: number;
    /**
     * false: the lines of this workflow's jobs are never stored (only the live buffer sees them).
     * Written on every new event; absent (events from before the field existed) means true.
     */
    readonly log_retention?: boolean;
    /** Absent: no chain. */
    readonly chain?: WorkflowChain;
  };
};
/** Only the fields that changed. `rebuild` is true when a CONTAINER's payload (image, cmd…) changed. */
export type WorkflowUpdated = {
  readonly type: 'WorkflowUpdated';
  readonly data: { readonly changes: WorkflowDefinitionChanges; readonly rebuild: boolean };
};
export type WorkflowBuildQueued = {
  readonly type: 'WorkflowBuildQueued';
  readonly data: Record<string, never>;
};
export type WorkflowBuildStarted = {
  readonly type: 'WorkflowBuildStarted';
  readonly data: Record<string, never>;
};
export type WorkflowBuildCompleted = {
  readonly type: 'WorkflowBuildCompleted';
  readonly data: { readonly image_digest?: string };
};
export type WorkflowBuildFailed = {
  readonly type: 'WorkflowBuildFailed';
  readonly data: { readonly reason: string };
};
export type WorkflowBuildCanceled = {
  readonly type: 'WorkflowBuildCanceled';
  readonly data: Record<string, never>;
};
export type WorkflowPaused = { readonly type: 'WorkflowPaused'; readonly data: Record<string, never> };
export type WorkflowResumed = { readonly type: 'WorkflowResumed'; readonly data: Record<string, never> };
export type WorkflowTerminated = {
  readonly type: 'WorkflowTerminated';
  /** `run_limit`: the scheduled fire that reached the schedule's `max_runs` (its job still runs). */
  readonly data: { readonly reason: 'user' | 'consecutive_failures' | 'run_limit' };
};
export type WorkflowDeleted = { readonly type: 'WorkflowDeleted'; readonly data: Record<string, never> };
/**
 * A tick fired (AUTOMATIC, `scheduled_at` is the nominal time) or a run-now (MANUAL). `replaces`:
 * under overlap policy `cancel_running`, the jobs still active when the tick fired, which the new job
 * replaces. It is part of the decision (not left to whoever reacts) so that cancelling them can be
 * retried after a crash and never reaches a job scheduled later.
 */
export type JobScheduled = {
  readonly type: 'JobScheduled';
  readonly data: {
    readonly job_id: string;
    /** The tick's nominal time (its identity in the ledger); a run-now's: when it was asked for. */
    readonly scheduled_at: string;
    /**
     * With the schedule's jitter: when the job is to start, the nominal time plus the workflow's
     * offset for this tick. Absent: at scheduled_at.
     */
    readonly fire_at?: string;
    readonly trigger: JobTrigger;
    readonly replaces?: readonly string[];
    /**
     * The tick was decided ahead of its nominal time (it had nothing to wait for then). Until it is
     * due it is provisional: a pause or a termination before then withdraws it (TicksWithdrawn).
     */
    readonly ahead?: true;
    /**
     * Overlap policy `queue_one`: the job that was active when the tick fired. The new job is created
     * but not queued until that one's end is recorded (JobReleased).
     */
    readonly waits_for?: readonly string[];
    /** Trigger BACKFILL: the backfill that asked for this tick. */
    readonly backfill_id?: string;
    /** Trigger CHAIN: the job whose end started it. */
    readonly caused_by?: ChainCause;
  };
};
/**
 * A chained run that did not happen: this workflow was paused, terminated or not built, the chain
 * too deep (recorded on the child), or the child no longer exists (recorded on the parent, `target`).
 */
export type ChainSkipped = {
  readonly type: 'ChainSkipped';
  readonly data: {
    readonly caused_by: ChainCause;
    readonly target: string;
    readonly reason: 'paused' | 'terminated' | 'not_built' | 'depth_exceeded' | 'not_found';
  };
};
/**
 * A backfill: the schedule's nominal ticks in [from, to) that no earlier backfill of the workflow
 * covered fire now as jobs with trigger BACKFILL, one JobScheduled each in this same commit (`jobs`
 * of them). `allow`: all at once; `buffer`: each waits for the one before (waits_for, JobReleased).
 */
export type BackfillRequested = {
  readonly type: 'BackfillRequested';
  readonly data: {
    readonly backfill_id: string;
    readonly from: string;
    readonly to: string;
    readonly overlap: BackfillOverlap;
    readonly jobs: number;
    /** Ticks of the range an earlier backfill already fired: not fired again. */
    readonly covered: number;
  };
};
export type BackfillOverlap = 'allow' | 'buffer';
/** The jobs a `queue_one` job waited for have all ended: it is queued now. */
export type JobReleased = { readonly type: 'JobReleased'; readonly data: { readonly job_id: string } };
/**
 * Ticks decided ahead whose nominal time had not come when the workflow was paused or terminated:
 * their jobs are canceled before they start. `paused`: the ticks are undecided again (the ledger
 * moves back to `last_tick_at`) and are decided when due, like any tick of a paused workflow (recorded
 * `paused`, or held for the catch-up on resume); a resume before then lets them fire. `terminated`:
 * each is recorded as skipped with reason `terminated`.
 */
export type TicksWithdrawn = {
  readonly type: 'TicksWithdrawn';
  readonly data: {
    readonly reason: 'paused' | 'terminated';
    readonly ticks: readonly { readonly nominal_at: string; readonly job_id: string }[];
    /** The ledger's position once they are withdrawn: the last tick decided before the first of them. */
    readonly last_tick_at: string | null;
    readonly last_fired_at: string | null;
  };
};
export type TickSkipped = {
  readonly type: 'TickSkipped';
  readonly data: { readonly nominal_at: string; readonly reason: TickSkipReason };
};
export type JobOutcomeRecorded = {
  readonly type: 'JobOutcomeRecorded';
  readonly data: {
    readonly job_id: string;
    readonly outcome: RecordedJobOutcome;
    readonly consecutive_failures: number;
  };
};

export type WorkflowEvent =
  | BackfillRequested
  | ChainSkipped
  | WorkflowCreated
  | WorkflowUpdated
  | WorkflowBuildQueued
  | WorkflowBuildStarted
  | WorkflowBuildCompleted
  | WorkflowBuildFailed
  | WorkflowBuildCanceled
  | WorkflowPaused
  | WorkflowResumed
  | WorkflowTerminated
  | WorkflowDeleted
  | JobScheduled
  | TickSkipped
  | TicksWithdrawn
  | JobReleased
  | JobOutcomeRecorded;

type NoData = Record<string, never>;

export type CreateWorkflow = { readonly type: 'CreateWorkflow'; readonly data: WorkflowCreated['data'] };
export type UpdateWorkflow = { readonly type: 'UpdateWorkflow'; readonly data: WorkflowDefinitionChanges };
export type StartWorkflowBuild = { readonly type: 'StartWorkflowBuild'; readonly data: NoData };
export type CompleteWorkflowBuild = {
  readonly type: 'CompleteWorkflowBuild';
  readonly data: { readonly image_digest?: string };
};
export type FailWorkflowBuild = {
  readonly type: 'FailWorkflowBuild';
  readonly data: { readonly reason: string };
};
export type PauseWorkflow = { readonly type: 'PauseWorkflow'; readonly data: NoData };
export type ResumeWorkflow = { readonly type: 'ResumeWorkflow'; readonly data: NoData };
export type TerminateWorkflow = { readonly type: 'TerminateWorkflow'; readonly data: NoData };
export type DeleteWorkflow = { readonly type: 'DeleteWorkflow'; readonly data: NoData };
/**
 * Fire the nominal tick `nominal_at` (it may be decided ahead of its due time). `overlap: 'skip'`
 * skips the tick while a job of this workflow is still active; the default runs it anyway.
 */
export type FireTick = {
  readonly type: 'FireTick';
  readonly data: {
    readonly nominal_at: string;
    readonly job_id: string;
    /**
     * `queue_one`: fire unless a job already waits behind the running one, the new job waiting for
     * the running one to end (`JobScheduled.waits_for`); `cancel_running`: fire, naming the active
     * jobs in `JobScheduled.replaces`. Default `allow`.
     */
    readonly overlap?: OverlapPolicy;
    /**
     * Decided before the tick is due (the scheduler's lookahead). The workflow then fires only what
     * nothing can change before the nominal time (active, built, no earlier job still active, or
     * overlap `allow`) and leaves anything else undecided until the tick is due.
     */
    readonly ahead?: boolean;
    /**
     * The last tick the scheduler believes decided. After a withdrawal the ledger moved back; a
     * scheduler that has not seen it yet is refused (`tick_out_of_order`) instead of deciding past the
     * withdrawn ticks.
     */
    readonly after?: string | null;
  };
};
/**
 * The scheduler decided a tick will not run (beyond the catch-up window, schedule ended…). `paused`:
 * a tick of a paused workflow that its catch-up policy would not fire on resume; refused unless the
 * workflow is paused, since the scheduler's view of the status may lag behind the actor's.
 */
export type SkipTick = {
  readonly type: 'SkipTick';
  readonly data: {
    readonly nominal_at: string;
    readonly reason: 'missed' | 'end_reached' | 'overlap' | 'dst_skipped' | 'paused';
    /** As in FireTick. */
    readonly after?: string | null;
  };
};
/**
 * Fire these past nominal ticks of the schedule (computed from it by the caller, in order, all in
 * [from, to)) as a backfill; ticks an earlier backfill covered are left out.
 */
export type Backfill = {
  readonly type: 'Backfill';
  readonly data: {
    readonly backfill_id: string;
    readonly from: string;
    readonly to: string;
    readonly overlap: BackfillOverlap;
    readonly nominal_ats: readonly string[];
  };
};
/** Run the workflow because another's job ended (its chain names this one). */
export type ChainRun = {
  readonly type: 'ChainRun';
  readonly data: { readonly job_id: string; readonly caused_by: ChainCause };
};
/** The chain could not reach its target (it no longer exists): recorded on the parent. */
export type RecordChainSkip = {
  readonly type: 'RecordChainSkip';
  readonly data: ChainSkipped['data'];
};
/** Run the workflow now; the job's nominal time is the decision's `now`. */
export type RunNow = { readonly type: 'RunNow'; readonly data: { readonly job_id: string } };
export type RecordJobOutcome = {
  readonly type: 'RecordJobOutcome';
  readonly data: { readonly job_id: string; readonly outcome: RecordedJobOutcome };
};

/**
 * Several jobs' ends at once, applied in the order listed: the burst a busy workflow's jobs end in
 * becomes one commit, instead of a run of appends that keeps every other writer of the workflow
 * (a run-now from the API) conflicting until it is over.
 */
export type RecordJobOutcomes = {
  readonly type: 'RecordJobOutcomes';
  readonly data: { readonly outcomes: readonly RecordJobOutcome['data'][] };
};

export type WorkflowCommand =
  | CreateWorkflow
  | UpdateWorkflow
  | StartWorkflowBuild
  | CompleteWorkflowBuild
  | FailWorkflowBuild
  | PauseWorkflow
  | ResumeWorkflow
  | TerminateWorkflow
  | DeleteWorkflow
  | FireTick
  | SkipTick
  | RunNow
  | ChainRun
  | RecordChainSkip
  | Backfill
  | RecordJobOutcome
  | RecordJobOutcomes;
