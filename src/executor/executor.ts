// An executor node: pulls job attempts from the dispatch work queue, runs each at most once, and
// reports it to the job actor. The actor is the fence: StartJob names the attempt, so a redelivered
// message for an attempt already started or finished elsewhere is refused and acked, never run.
// While a job runs the message is kept alive with working(); a message redelivered because its
// holder went silent (dead executor) fails that attempt as SYSTEM `executor_lost`, which the job's
// retry policy turns into a new attempt.

import { randomUUID } from 'node:crypto';
import { AckPolicy, DeliverPolicy, type JsMsg } from '@nats-io/jetstream';
import type Docker from 'dockerode';
import type { CommandHandler, CommandRequest } from '../actors/command-handler.ts';
import { type DispatchMessage, decodeDispatch } from '../actors/dispatch-message.ts';
import { jobDecider } from '../actors/job-decider.ts';
import type { JobContext } from '../actors/job-machine.ts';
import { isRefusal } from '../errors.ts';
import { ensureDurableConsumer } from '../events/durable-consumer.ts';
import type { StartJob } from '../events/job-events.ts';
import { msToNanos, streamNames } from '../events/stream-definitions.ts';
import { eventSubject, logSubject } from '../events/subjects.ts';
import { EndpointPolicy } from '../infra/endpoint-policy.ts';
import type { Nats } from '../infra/nats-connection.ts';
import type { SecretBox } from '../infra/secret-box.ts';
import type { Logger } from '../telemetry/logger.ts';
import { processMessage } from '../telemetry/messaging.ts';
import { meters, observeDispatchPending } from '../telemetry/metrics.ts';
import { activeTraceId, failSpan, type Span, withSpan } from '../telemetry/tracing.ts';
import type { ExecutorLimits } from './container-limits.ts';
import { runContainer } from './container-runner.ts';
import { HeartbeatClient } from './heartbeat-runner.ts';
import { LogShipper } from './log-shipper.ts';
import type { RunResult } from './run-result.ts';

export interface ExecutorOptions {
  readonly executorId: string;
  readonly pool: string;
  readonly concurrency: number;
  readonly ackWaitMs: number;
  readonly maxDeliver: number;
  readonly limits: ExecutorLimits;
  /** Networks HEARTBEATs may reach besides the public internet (see EndpointPolicy). */
  readonly heartbeatAllowedNetworks?: readonly string[];
  /** Opens CONTAINER secret_env values; without it a job with secrets fails (secret_unreadable). */
  readonly secretBox?: SecretBox;
}

export interface ExecutorDeps {
  readonly nats: Nats;
  readonly commands: CommandHandler;
  readonly docker: Docker;
  readonly log: Logger;
}

type StartedContext = Pick<JobContext, 'trigger' | 'scheduled_at' | 'fire_at' | 'attempt'>;

/** How often a start is tried through an outage (about 30 s) before its message goes back to the queue. */
const START_TRIES = 8;

/**
 * The start of an attempt under `claim`. Its command id names the claim: two executors' starts of one
 * attempt are two commands, so the log's duplicate detection never answers one with the other's
 * commit (it would take a redelivered start, decided on the dispatcher's stale snapshot, for a start
 * that landed, and run the attempt twice).
 */
export function startCommand(
  job: Pick<DispatchMessage, 'job_id' | 'user_id' | 'attempt'>,
  executorId: string,
  claim: string,
): CommandRequest<StartJob> {
  return {
    commandId: `${job.job_id}:${job.attempt}:start:${claim}`,
    userId: job.user_id,
    aggregateId: job.job_id,
    command: { type: 'StartJob', data: { attempt: job.attempt, executor_id: executorId, claim } },
  };
}

export const dispatchConsumerName = (pool: string): string => `executor_${pool}`;

export async function ensureDispatchConsumer(
  nats: Nats,
  o: Pick<ExecutorOptions, 'pool' | 'ackWaitMs' | 'maxDeliver'>,
): Promise<void> {
  const name = dispatchConsumerName(o.pool);
  const config = {
    durable_name: name,
    ack_policy: AckPolicy.Explicit,
    deliver_policy: DeliverPolicy.All,
    filter_subject: `cv.dispatch.${o.pool}`,
    ack_wait: msToNanos(o.ackWaitMs),
    max_deliver: o.maxDeliver,
    max_ack_pending: 10_000,
  };
  await ensureDurableConsumer(nats.jsm, streamNames.dispatch, config, [
    'ack_wait',
    'max_deliver',
    'max_ack_pending',
  ]);
}

export class Executor {
  private stopping = false;
  private loop: Promise<void> | undefined;
  private readonly running = new Map<string, { cancel: AbortController; done: Promise<void> }>();
  private slotWaiters: (() => void)[] = [];
  private stopPull: (() => void) | undefined;
  private unobservePending: (() => void) | undefined;
  private begun = 0;

  private readonly heartbeats: HeartbeatClient;

  constructor(
    private readonly deps: ExecutorDeps,
    readonly options: ExecutorOptions,
  ) {
    this.heartbeats = new HeartbeatClient(new EndpointPolicy(options.heartbeatAllowedNetworks ?? []));
  }

  get activeJobs(): number {
    return this.running.size;
  }

  async start(): Promise<void> {
    await ensureDispatchConsumer(this.deps.nats, this.options);
    meters().slotLimit.add(this.options.concurrency, this.poolAttributes);
    this.unobservePending = observeDispatchPending(this.options.pool, async () => {
      const consumer = await this.deps.nats.js.consumers.get(
        streamNames.dispatch,
        dispatchConsumerName(this.options.pool),
      );
      return (await consumer.info()).num_pending;
    });
    this.loop = this.run();
  }

  private get poolAttributes() {
    return { 'chronoverse.executor.pool': this.options.pool };
  }

  private async run(): Promise<void> {
    const { nats, log } = this.deps;
    while (!this.stopping) {
      try {
        const consumer = await nats.js.consumers.get(
          streamNames.dispatch,
          dispatchConsumerName(this.options.pool),
        );
        // A pull asks for as many messages as there are free slots and each one starts as it arrives:
        // nothing waits in a local buffer where its ack-wait would run out unattended (burning a
        // delivery), and work this executor has no room for stays available to the others. One pull
        // per free slot at a time would cap an executor at one message per round trip.
        while (!this.stopping) {
          await this.freeSlot();
          if (this.stopping) break;
          const batch = await consumer.fetch({
            max_messages: this.options.concurrency - this.running.size,
            expires: 5000,
          });
          // stop() ends the pull at once: every message it delivered after the stop would be nak'd,
          // and each nak spends one of the message's deliveries.
          this.stopPull = () => batch.stop();
          if (this.stopping) batch.stop();
          for await (const m of batch) {
            if (this.stopping) {
              m.nak();
              continue;
            }
            this.begin(m);
          }
        }
      } catch (err) {
        if (this.stopping) break;
        log.error('dispatch consumer failed; retrying', { error: err });
        await new Promise((r) => setTimeout(r, 1000));
      }
    }
  }

  private freeSlot(): Promise<void> {
    if (this.running.size < this.options.concurrency) return Promise.resolve();
    return new Promise((r) => this.slotWaiters.push(r));
  }

  private begin(m: JsMsg): void {
    // Not the stream sequence: a message redelivered here while its first delivery still runs would
    // share it, and one entry for two runs undercounts the slots in use.
    const key = `${m.seq}:${++this.begun}`;
    const cancel = new AbortController();
    meters().slotUsage.add(1, this.poolAttributes);
    const done = this.handle(m, cancel)
      .catch((err: unknown) => {
        this.deps.log.error('job handling failed; the message will be redelivered', {
          sequence: m.seq,
          error: err,
        });
        m.nak(5000);
      })
      .finally(() => {
        meters().slotUsage.add(-1, this.poolAttributes);
        this.running.delete(key);
        this.slotWaiters.shift()?.();
      });
    this.running.set(key, { cancel, done });
  }

  private async handle(m: JsMsg, cancel: AbortController): Promise<void> {
    const { log } = this.deps;
    let job: DispatchMessage;
    try {
      job = decodeDispatch(m.data);
    } catch (err) {
      log.error('unreadable dispatch message dropped', { sequence: m.seq, error: err });
      m.term();
      return;
    }
    const wait = job.not_before ? Date.parse(job.not_before) - Date.now() : 0;
    if (wait > 0) {
      m.nak(Math.min(wait, this.options.ackWaitMs));
      return;
    }
    // The job span: a CONSUMER span of the dispatch message, parented to the dispatch reactor's
    // PRODUCER span, so the run joins the trace of the request or tick that made the job.
    await processMessage(
      {
        template: m.subject,
        subject: m.subject,
        consumer: dispatchConsumerName(this.options.pool),
        messageId: `${job.job_id}:${job.attempt}`,
        attributes: {
          'messaging.nats.delivery_count': m.info.deliveryCount,
          'chronoverse.job.id': job.job_id,
          'chronoverse.job.attempt': job.attempt,
          'chronoverse.job.kind': job.kind,
          'chronoverse.workflow.id': job.workflow_id,
          'chronoverse.executor.id': this.options.executorId,
        },
      },
      m.headers,
      (span) => this.startAndRun(m, job, cancel, span),
    );
  }

  private async startAndRun(
    m: JsMsg,
    job: DispatchMessage,
    cancel: AbortController,
    span: Span,
  ): Promise<void> {
    const { commands } = this.deps;
    const request = (step: string) => ({
      commandId: `${job.job_id}:${job.attempt}:${step}`,
      userId: job.user_id,
      aggregateId: job.job_id,
    });

    // The job as the dispatcher last saw it: the start is decided without reading the job back.
    if (job.job_snapshot) {
      commands.prime(jobDecider, job.user_id, job.job_id, job.job_snapshot.version, job.job_snapshot);
    }
    // Listen for a cancel before starting, so one that lands right after the start is not missed.
    const canceledSub = this.watchForCancel(job, cancel);
    // The message is kept from the start on: a start waiting out an outage must not be redelivered.
    const keepAlive = setInterval(() => m.working(), Math.max(1000, this.options.ackWaitMs / 3));
    let started: StartedContext;
    try {
      started = await this.startAttempt(job);
    } catch (err) {
      clearInterval(keepAlive);
      canceledSub.unsubscribe();
      if (!isRefusal(err)) throw err;
      span.setAttribute('chronoverse.refusal', err.code);
      if (err.code === 'attempt_not_current' && m.info.deliveryCount > 1) {
        // Redelivered: whoever started this attempt stopped keeping its message alive.
        await this.reportLost(job, request);
      }
      // Started or finished elsewhere, canceled, or gone: the fence held.
      m.ack();
      return;
    }
    this.recordStart(m, job, started);

    try {
      const runStarted = performance.now();
      const result = await withSpan(
        `job ${job.kind}`,
        { attributes: { 'chronoverse.job.kind': job.kind } },
        async (runSpan) => {
          const r = await this.execute(job, cancel.signal);
          runSpan.setAttribute('chronoverse.job.outcome', r.outcome);
          if (r.outcome === 'failed') failSpan(runSpan, new Error(r.error_message), r.reason);
          return r;
        },
      );
      meters().jobDuration.record((performance.now() - runStarted) / 1000, {
        'chronoverse.job.kind': job.kind,
        'chronoverse.job.outcome': result.outcome,
      });
      span.setAttribute('chronoverse.job.outcome', result.outcome);
      // The run is over: a cancel now has nothing to stop, and the job's own end need not come back.
      canceledSub.unsubscribe();
      // The job ran: its outcome is reported until the log takes it. Giving up here would have the
      // message redelivered and the attempt counted lost, and the job would run again.
      for (let attempt = 0; ; attempt++) {
        try {
          await this.report(job, result, request);
          break;
        } catch (err) {
          if (this.stopping && attempt > 5) throw err;
          this.deps.log.warn('could not report a finished job; retrying', {
            job_id: job.job_id,
            attempt,
            error: err,
          });
          await new Promise((r) => setTimeout(r, Math.min(5000, 200 * 2 ** attempt)));
        }
      }
      m.ack();
    } finally {
      clearInterval(keepAlive);
      if (!canceledSub.isClosed()) canceledSub.unsubscribe();
    }
  }

  /**
   * Starts the attempt, through an outage. A start whose answer was lost may be in the log: giving up
   * then would have the message redelivered and the attempt, started by no one who runs it, counted
   * lost (seen when a NATS cluster lost its stream leader). So the start is retried, under a claim
   * only this call knows, which the job actor recognizes as its own start if it landed.
   */
  private async startAttempt(job: DispatchMessage): Promise<StartedContext> {
    const start = startCommand(job, this.options.executorId, randomUUID());
    for (let attempt = 1; ; attempt++) {
      try {
        const result = await this.deps.commands.handle(jobDecider, start);
        return result.state.context;
      } catch (err) {
        if (isRefusal(err) || this.stopping || attempt >= START_TRIES) throw err;
        this.deps.log.warn('could not start a job; retrying', { job_id: job.job_id, attempt, error: err });
        await new Promise((r) => setTimeout(r, Math.min(5000, 200 * 2 ** attempt)));
      }
    }
  }

  /**
   * The start's metrics: how long the attempt waited in dispatch once it could run (from its
   * message, or its not-before time when later), and for a scheduled job's first attempt the tick's
   * lateness (from when it was meant to start, its nominal instant or with jitter its fire_at, to now).
   */
  private recordStart(
    m: JsMsg,
    job: DispatchMessage,
    context: { trigger: string; scheduled_at: string; fire_at?: string; attempt: number },
  ): void {
    const now = Date.now();
    const kind = { 'chronoverse.job.kind': job.kind };
    const notBefore = job.not_before ? Date.parse(job.not_before) : 0;
    const ready = Math.max(m.info.timestampNanos / 1e6, Number.isNaN(notBefore) ? 0 : notBefore);
    meters().jobQueueDuration.record(Math.max(0, now - ready) / 1000, kind);
    if (context.trigger === 'AUTOMATIC' && context.attempt === 1 && context.scheduled_at) {
      const due = Date.parse(context.fire_at ?? context.scheduled_at);
      if (!Number.isNaN(due)) meters().tickLateness.record(Math.max(0, now - due) / 1000, kind);
    }
  }

  /** Listens on the job's own subject: a JobCanceled there stops the run. */
  private watchForCancel(job: DispatchMessage, cancel: AbortController) {
    return this.deps.nats.nc.subscribe(eventSubject(job.user_id, 'job', job.job_id), {
      callback: (_err, msg) => {
        if (msg?.headers?.get('Cv-Event-Types')?.split(',').includes('JobCanceled')) cancel.abort();
      },
    });
  }

  private async execute(job: DispatchMessage, canceled: AbortSignal): Promise<RunResult> {
    let resumeListener: (() => void) | undefined;
    const flow = {
      paused: false,
      onResume(fn: () => void) {
        resumeListener = fn;
      },
    };
    const shipper = new LogShipper(
      this.deps.nats.js,
      logSubject(job.user_id, job.job_id),
      {
        workflowId: job.workflow_id,
        jobId: job.job_id,
        attempt: job.attempt,
        store: job.log_retention !== false,
        ...activeTraceId(),
      },
      {
        pause: () => {
          flow.paused = true;
        },
        resume: () => {
          flow.paused = false;
          resumeListener?.();
        },
      },
    );
    const ctx = {
      log: (stream: 'stdout' | 'stderr', line: string) => shipper.add(stream, line),
      canceled,
      flow,
    };
    try {
      return job.kind === 'HEARTBEAT'
        ? await this.heartbeats.run(job.payload, ctx)
        : await runContainer(
            this.deps.docker,
            {
              jobId: job.job_id,
              userId: job.user_id,
              attempt: job.attempt,
              executorId: this.options.executorId,
            },
            job.payload,
            this.options.limits,
            ctx,
            this.options.secretBox,
          );
    } finally {
      // The result is reported only once every line is stored.
      await shipper.close();
    }
  }

  private async report(
    job: DispatchMessage,
    result: RunResult,
    request: (step: string) => { commandId: string; userId: string; aggregateId: string },
  ): Promise<void> {
    const { commands } = this.deps;
    try {
      if (result.outcome === 'completed') {
        await commands.handle(jobDecider, {
          ...request('complete'),
          command: {
            type: 'CompleteJob',
            data: {
              attempt: job.attempt,
              ...(result.exit_code === undefined ? {} : { exit_code: result.exit_code }),
              ...(result.image_digest ? { image_digest: result.image_digest } : {}),
            },
          },
        });
      } else if (result.outcome === 'failed') {
        const { outcome: _, ...failure } = result;
        await commands.handle(jobDecider, {
          ...request('fail'),
          command: { type: 'FailJob', data: { attempt: job.attempt, ...failure } },
        });
      }
      // canceled: the job actor already says so.
    } catch (err) {
      // Canceled or superseded meanwhile: the actor's state stands.
      if (!isRefusal(err)) throw err;
    }
  }

  private async reportLost(
    job: DispatchMessage,
    request: (step: string) => { commandId: string; userId: string; aggregateId: string },
  ): Promise<void> {
    const current = await this.deps.commands.load(jobDecider, job.user_id, job.job_id);
    if (current.state.context.attempt !== job.attempt || !current.state.matches('RUNNING')) return;
    try {
      await this.deps.commands.handle(jobDecider, {
        ...request('lost'),
        command: {
          type: 'FailJob',
          data: {
            attempt: job.attempt,
            failure_kind: 'SYSTEM',
            reason: 'executor_lost',
            error_message: 'the executor running this attempt stopped answering',
            retryable: true,
          },
        },
      });
    } catch (err) {
      if (!isRefusal(err)) throw err;
    }
  }

  /** Stops pulling; cancels nothing that runs, but waits for it (bounded by the caller's patience). */
  async stop(): Promise<void> {
    this.stopping = true;
    this.stopPull?.();
    for (const w of this.slotWaiters.splice(0)) w();
    await Promise.all([...this.running.values()].map((r) => r.done));
    await this.loop;
    this.unobservePending?.();
    meters().slotLimit.add(-this.options.concurrency, this.poolAttributes);
  }
}
