// Keeps workflows and jobs in step: a scheduled job becomes a job actor and is queued, and the jobs
// it replaces (overlap policy cancel_running) are canceled; a job's end is recorded on its workflow
// (which resets or counts consecutive failures and may terminate). A busy workflow's ends share
// records: while one is written, and for up to GATHER_MS where no decision reads them.
import type { CommandHandler } from '../actors/command-handler.ts';
import { jobDecider } from '../actors/job-decider.ts';
import { jobEndsMayWaitForRecord, workflowDecider } from '../actors/workflow-decider.ts';
import { isRefusal } from '../errors.ts';
import type { EventEnvelope } from '../events/envelope.ts';
import { nameBasedUuid } from '../events/name-based-id.ts';
import type { RecordedJobOutcome } from '../events/workflow-events.ts';
import { type DispatchDeps, publishDispatch } from './dispatch-reactor.ts';
import type { Reactor, Unfinished } from './reactor.ts';

/** The most job ends one commit records. */
const MAX_OUTCOMES_PER_COMMIT = 500;
/**
 * The least time between two records on one workflow. Every other writer of the workflow (a run-now
 * from the API, a tick) must read what changed and append within one gap; records at round-trip pace
 * left them none, and a few run-nows gave up after 30 conflicts (2–3 of 18,000 at 6 run-nows and 6 job
 * ends a second per workflow). Ends arriving meanwhile join the next record.
 */
const RECORD_GAP_MS = 100;
/**
 * How long a completed job's end may wait for others to share its record, where no decision of the
 * workflow reads it (jobEndsMayWaitForRecord). At the heartbeat benchmark's rate (2 ends a second on
 * each of 500 workflows) each end took a commit of its own: 7 of a job's ~39 messages.
 */
const GATHER_MS = 1000;

type Settle = { resolve: () => void; reject: (err: unknown) => void };
/** A job's end waiting to be recorded on its workflow. */
type WaitingEnd = { e: EventEnvelope; outcome: RecordedJobOutcome; arrived: number; done: Settle };

/** Jobs whose workflow the reactor remembers: ~100 bytes each; a couple of minutes at 1,000 jobs/s. */
const REMEMBERED_JOBS = 200_000;

/**
 * `dispatch`: where the first attempt of each job it creates and queues is dispatched, by the reaction
 * itself right after the commit (the JobQueued says so, and the dispatch reactor leaves it alone).
 * Without it, the dispatch reactor dispatches every queued attempt, as it did before.
 */
export function jobLifecycleReactor(handler: CommandHandler, dispatch?: DispatchDeps): Reactor {
  // The workflow of each job scheduled here, for recording the job's end on it. Under a backlog the
  // job's snapshot has left the command handler's cache long before its end is delivered, and reading
  // it back (for one unchanging field) cost four round trips per job. A job not found (another
  // replica scheduled it, a restart) is read as before.
  const workflowOfJob = new Map<string, string>();
  const remember = (jobId: string, workflowId: string) => {
    workflowOfJob.set(jobId, workflowId);
    if (workflowOfJob.size > REMEMBERED_JOBS) {
      const oldest = workflowOfJob.keys().next().value;
      if (oldest !== undefined) workflowOfJob.delete(oldest);
    }
  };

  // Job ends waiting to be recorded, per workflow. While one record is being written, the ends that
  // arrive for the same workflow gather and go as the next one, in one commit: a busy workflow's jobs
  // end in bursts, and a run of appends at round-trip pace kept a run-now from the API conflicting
  // for seconds (heartbeat benchmark, 100 workflows at 6 run-nows a second each).
  const waiting = new Map<string, WaitingEnd[]>();
  const recording = new Set<string>();
  // Workflows whose waiting ends are to be recorded without gathering more, and how to cut short a
  // gathering under way: an end that must not wait arrived, or the workflow changed (terminated,
  // edited, a job now waits for its ends) in a way that may make its ends matter.
  const hurried = new Set<string>();
  const wakeGathering = new Map<string, () => void>();
  const recordSoon = (workflowId: string) => {
    if (!waiting.has(workflowId)) return;
    hurried.add(workflowId);
    wakeGathering.get(workflowId)?.();
  };
  const recordOutcome = (e: EventEnvelope, workflowId: string, outcome: RecordedJobOutcome) =>
    new Promise<void>((resolve, reject) => {
      const queue = waiting.get(workflowId) ?? [];
      queue.push({ e, outcome, arrived: Date.now(), done: { resolve, reject } });
      waiting.set(workflowId, queue);
      if (outcome !== 'COMPLETED' || queue.length >= MAX_OUTCOMES_PER_COMMIT) recordSoon(workflowId);
      if (!recording.has(workflowId)) void recordWaiting(workflowId);
    });
  /** Until the oldest waiting end has gathered others for GATHER_MS, where the ends may wait. */
  const gather = async (workflowId: string, queue: readonly WaitingEnd[]) => {
    const first = queue[0]!;
    // Ends that waited long enough already (they arrived during the last record) need no load.
    if (hurried.has(workflowId) || first.arrived + GATHER_MS <= Date.now()) return;
    const workflow = await handler
      .loadAtLeast(workflowDecider, first.e.userId, workflowId, 0)
      .catch(() => undefined);
    if (hurried.has(workflowId) || !workflow?.exists) return;
    const outcomes = queue.map((w) => w.outcome);
    if (!jobEndsMayWaitForRecord(workflow.state, outcomes)) return;
    const wait = first.arrived + GATHER_MS - Date.now();
    if (wait <= 0) return;
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, wait);
      wakeGathering.set(workflowId, () => {
        clearTimeout(timer);
        resolve();
      });
    });
    wakeGathering.delete(workflowId);
  };
  const recordWaiting = async (workflowId: string) => {
    recording.add(workflowId);
    try {
      for (let queue = waiting.get(workflowId); queue?.length; queue = waiting.get(workflowId)) {
        await gather(workflowId, queue);
        hurried.delete(workflowId);
        const batch = queue.splice(0, MAX_OUTCOMES_PER_COMMIT);
        if (queue.length === 0) waiting.delete(workflowId);
        const first = batch[0]!.e;
        const outcomes = batch.map((b) => ({ job_id: b.e.aggregateId, outcome: b.outcome }));
        try {
          await handler.handle(workflowDecider, {
            // One end alone keeps the id it always had; a group's id is derived from its events, so
            // the same group redelivered appends once. (A different grouping after a crash appends
            // nothing new either: an end already recorded is no longer active.)
            ...cause(
              first,
              batch.length === 1
                ? 'record-outcome'
                : `record-outcomes:${nameBasedUuid(batch.map((b) => b.e.id).join(','))}`,
            ),
            aggregateId: workflowId,
            command:
              batch.length === 1
                ? { type: 'RecordJobOutcome', data: outcomes[0]! }
                : { type: 'RecordJobOutcomes', data: { outcomes } },
          });
          for (const b of batch) b.done.resolve();
        } catch (err) {
          for (const b of batch) b.done.reject(err);
        }
        // The gap is kept whether or not more ends are waiting yet: one arriving just after the record
        // would otherwise start the next at once.
        await new Promise((r) => setTimeout(r, RECORD_GAP_MS));
      }
    } finally {
      recording.delete(workflowId);
    }
  };

  const cause = (e: EventEnvelope, step: string) => ({
    commandId: `${e.id}:${step}`,
    userId: e.userId,
    correlationId: e.correlationId,
    causationId: e.id,
    // No traceparent: the command takes the reaction's span (a child of the commit's), never the
    // context stored on the event.
  });

  /** Cancels each job the event names. One refusal (a job that has ended since) must not keep the
   * others running, hence one catch per job. */
  const cancelJobs = async (e: EventEnvelope, jobIds: readonly string[], step: string, reason: string) => {
    for (const jobId of jobIds) {
      await handler
        .handle(jobDecider, {
          ...cause(e, `${step}:${jobId}`),
          aggregateId: jobId,
          command: { type: 'CancelJob', data: { reason } },
        })
        .catch((err: unknown) => {
          if (!isRefusal(err)) throw err;
          // Not created yet: its own JobScheduled failed once and waits for redelivery, while this
          // later one ran first. Retry the whole event (create and queue are no-ops the second
          // time) until the job exists and can be canceled; a refusal of any other kind is final.
          if (err.code === 'job_not_found') {
            throw new Error(`job ${jobId} to cancel does not exist yet`, { cause: err });
          }
        });
    }
  };

  return {
    name: 'reactor_job_lifecycle',
    // One filter (see filter-subjects.ts); user events are passed over in react().
    subjects: ['cv.evt.>'],
    eventTypes: new Set([
      'JobScheduled',
      'JobReleased',
      'TicksWithdrawn',
      'JobCompleted',
      'JobCanceled',
      'JobFailed',
      'WorkflowTerminated',
      'WorkflowUpdated',
    ]),
    async react(e, sequence) {
      switch (e.type) {
        case 'JobScheduled': {
          // A job waiting for the active ones (queue_one, a buffered backfill) is released by their
          // records: they are not to be gathered any longer.
          if (e.data.waits_for?.length) recordSoon(e.aggregateId);
          // The definition as of this tick's commit or newer: a later edit applies to this job too.
          remember(e.data.job_id, e.aggregateId);
          const wf = await handler.loadAtLeast(workflowDecider, e.userId, e.aggregateId, sequence);
          const { kind, payload, log_retention, held_jobs } = wf.state.context;
          // A queue_one job waits (created, not queued) until the job before it ends; when that end
          // is already recorded in the state read here, it is queued at once.
          const held = held_jobs.some((h) => h.job_id === e.data.job_id);
          const created = await handler.handle(jobDecider, {
            // A new command id (was create-job, then queue-job): a redelivery after a crash of the older
            // two-step reaction must still queue, not be taken for the old create.
            ...cause(e, 'create-and-queue-job'),
            aggregateId: e.data.job_id,
            assumeNew: true,
            command: {
              type: 'CreateJob',
              data: {
                job_id: e.data.job_id,
                user_id: e.userId,
                workflow_id: e.aggregateId,
                scheduled_at: e.data.scheduled_at,
                ...(e.data.fire_at === undefined ? {} : { fire_at: e.data.fire_at }),
                ...(e.data.backfill_id === undefined ? {} : { backfill_id: e.data.backfill_id }),
                ...(e.data.caused_by === undefined ? {} : { caused_by: e.data.caused_by }),
                trigger: e.data.trigger,
                kind,
                payload,
                // Fixed for the job's life: a later change of the workflow's setting applies to
                // later jobs, so an attempt never stores part of a log.
                log_retention,
              },
              queue: !held,
              ...(dispatch ? { creatorDispatches: true } : {}),
            },
          });
          // The workflow named the jobs to replace when it fired the tick; a crash before this point
          // redelivers the event and the cancels run then.
          await cancelJobs(
            e,
            e.data.replaces ?? [],
            'replace',
            `replaced by the tick of ${e.data.scheduled_at} (overlap policy cancel_running)`,
          );
          // The first attempt's dispatch, once the jobs it replaces were told to stop. Sent whether
          // this commit queued the attempt or an earlier delivery of the same event did and then
          // stopped short of the publish: the message id makes a second one a duplicate. A job past
          // its first QUEUED (running, ended, a retry queued by its JobRetryScheduled, which the
          // dispatch reactor sends) was dispatched already.
          if (dispatch && created.state.matches('QUEUED') && created.state.context.attempt === 1) {
            const job = {
              userId: e.userId,
              jobId: e.data.job_id,
              state: created.state,
              version: created.version,
            };
            await publishDispatch(dispatch, job, created.state.context.attempt);
          }
          return;
        }
        case 'JobReleased':
          await handler
            .handle(jobDecider, {
              ...cause(e, 'queue-released-job'),
              aggregateId: e.data.job_id,
              command: { type: 'QueueJob', data: {} },
            })
            .catch((err: unknown) => {
              // Not created yet (its JobScheduled reaction failed once and waits for redelivery):
              // retry until it exists. Canceled meanwhile: nothing to queue.
              if (isRefusal(err) && err.code === 'job_not_found') {
                throw new Error(`released job ${e.data.job_id} does not exist yet`, { cause: err });
              }
              if (!isRefusal(err)) throw err;
            });
          return;
        case 'TicksWithdrawn':
          // Their nominal time had not come: they are canceled before an executor starts them.
          await cancelJobs(
            e,
            e.data.ticks.map((t) => t.job_id),
            'withdraw',
            `withdrawn before its tick was due: the workflow was ${e.data.reason}`,
          );
          return;
        case 'WorkflowTerminated':
        case 'WorkflowUpdated':
          // Its deletion waits for its active jobs; an edit may set an overlap policy or a chain.
          recordSoon(e.aggregateId);
          return;
        case 'JobCompleted':
        case 'JobCanceled':
        case 'JobFailed': {
          if (e.type === 'JobFailed' && e.data.will_retry) return;
          // Any snapshot of the job will do: its workflow id never changes.
          const workflowId =
            workflowOfJob.get(e.aggregateId) ??
            (await handler.loadAtLeast(jobDecider, e.userId, e.aggregateId, 0)).state.context.workflow_id;
          const outcome =
            e.type === 'JobCompleted' ? 'COMPLETED' : e.type === 'JobFailed' ? 'FAILED' : 'CANCELED';
          // The record may wait for others to share it: the reaction's slot is free meanwhile, and the
          // delivery is acked once the end is recorded.
          const recorded: Unfinished = {
            rest: recordOutcome(e, workflowId, outcome).then(() => {
              workflowOfJob.delete(e.aggregateId);
            }),
          };
          return recorded;
        }
        default:
          return;
      }
    },
  };
}
