// Runs a reactor: a durable JetStream consumer that turns events into commands. Delivery is at least
// once; every command a reactor sends has an id derived from the event that caused it, so a
// redelivered event appends nothing new. Events of one subject are handled in order; different
// subjects in parallel. A refusal by the domain (isRefusal) is final and acked; anything else is
// retried with a growing delay. A reaction may leave part of its work to finish later (`Unfinished`):
// its slot and its subject are free at once, and the delivery is acked when that part is done.

import { AckPolicy, DeliverPolicy, type JsMsg } from '@nats-io/jetstream';
import { isRefusal } from '../errors.ts';
import { ensureDurableConsumer } from '../events/durable-consumer.ts';
import type { EventEnvelope } from '../events/envelope.ts';
import { EVENT_TYPES_HEADER, type ObservedCommit, observedCommit } from '../events/event-store.ts';
import { filterFields } from '../events/filter-subjects.ts';
import { msToNanos, streamNames } from '../events/stream-definitions.ts';
import { subjectTemplate } from '../events/subjects.ts';
import { CONSUME_EXPIRES_MS, type Nats } from '../infra/nats-connection.ts';
import type { Logger } from '../telemetry/logger.ts';
import { processMessage } from '../telemetry/messaging.ts';
import { failSpan, type Span } from '../telemetry/tracing.ts';

export interface Reactor {
  readonly name: string;
  /** The stream it reads (default CV_EVENTS); its messages are commits, as the event log's are. */
  readonly stream?: string;
  readonly subjects: readonly string[];
  /**
   * The event types it reacts to. A commit holding none of them (its Cv-Event-Types header says so)
   * is acked on arrival, without a slot or a wait behind its subject: most commits are of no interest
   * to a given reactor, and they used to queue with the ones that are.
   */
  readonly eventTypes?: ReadonlySet<string>;
  /**
   * Reacts to one event; throws to have the event redelivered. Returns `Unfinished` when the rest of
   * the reaction waits on something slow that is not the event's (a record shared with later events):
   * the runner frees the slot and lets the subject's next event start, and acks (or retries) the
   * delivery when `rest` settles. Only for a last step whose order against the subject's later events
   * does not matter.
   */
  react(event: EventEnvelope, sequence: number): Promise<Unfinished | undefined>;
}

/** The part of a reaction that finishes after the reaction has returned (see `Reactor.react`). */
export interface Unfinished {
  readonly rest: Promise<void>;
}

/**
 * Several reactors on one durable consumer: every commit is delivered and acknowledged once instead
 * of once per reactor, and each reactor still sees only the events it names, in log order. The
 * reaction to a commit ends (and is acked) when every reactor is done with it; a redelivery runs them
 * all again, which their derived command and message ids make harmless.
 */
/** The consumer of the scheduler's job reactors (lifecycle and dispatch). */
export const JOB_REACTORS = 'reactor_job_lifecycle';

export function combinedReactor(name: string, reactors: readonly Reactor[]): Reactor {
  const interested = (r: Reactor, type: string) => !r.eventTypes || r.eventTypes.has(type);
  const everyType = reactors.every((r) => r.eventTypes);
  return {
    name,
    // One filter covering all of them (see filter-subjects.ts): the widest.
    subjects: ['cv.evt.>'],
    ...(everyType ? { eventTypes: new Set(reactors.flatMap((r) => [...(r.eventTypes ?? [])])) } : {}),
    async react(event, sequence) {
      const rests: Promise<void>[] = [];
      for (const r of reactors) {
        if (interested(r, event.type)) keepRest(rests, await r.react(event, sequence));
      }
      return unfinishedOf(rests);
    },
  };
}

/**
 * Keeps what a reaction left unfinished, marked as handled at once: it may fail while later events of
 * the commit are still being reacted to, before anyone awaits it, and an unhandled rejection would end
 * the process. Its failure is still seen by whoever awaits it.
 */
function keepRest(rests: Promise<void>[], unfinished: Unfinished | undefined): void {
  if (!unfinished) return;
  unfinished.rest.catch(() => {});
  rests.push(unfinished.rest);
}

/** One `Unfinished` for several (none when there are none). */
function unfinishedOf(rests: readonly Promise<void>[]): Unfinished | undefined {
  if (rests.length === 0) return undefined;
  return { rest: rests.length === 1 ? rests[0]! : Promise.all(rests).then(() => undefined) };
}

/** How long a delivery is kept from redelivery while unanswered: far past any command's deadline. */
const MAX_KEPT_ALIVE_MS = 5 * 60_000;

export interface ReactorOptions {
  readonly concurrency?: number;
  readonly ackWaitMs?: number;
  /**
   * Told of every delivered commit, in log order, as it arrives (before its reaction, and also for
   * commits the reactor has no interest in): a command handler's `observe` keeps its snapshots in step.
   */
  readonly onCommit?: (commit: ObservedCommit) => void;
}

export async function ensureReactorConsumer(nats: Nats, reactor: Reactor, ackWaitMs: number): Promise<void> {
  const config = {
    durable_name: reactor.name,
    ack_policy: AckPolicy.Explicit,
    deliver_policy: DeliverPolicy.All,
    ...filterFields(reactor.subjects),
    ack_wait: msToNanos(ackWaitMs),
    max_ack_pending: 4096,
    max_deliver: -1,
  };
  await ensureDurableConsumer(nats.jsm, reactor.stream ?? streamNames.events, config, [
    'ack_wait',
    'max_ack_pending',
  ]);
}

export class ReactorRunner {
  private stopping = false;
  private loop: Promise<void> | undefined;
  private stopConsumer: (() => void) | undefined;
  private readonly chains = new Map<string, Promise<void>>();
  private inFlight = 0;
  private readonly slotFreed: (() => void)[] = [];
  private readonly concurrency: number;
  private readonly ackWaitMs: number;
  private readonly onCommit: ((commit: ObservedCommit) => void) | undefined;
  /** Deliveries not answered yet (ack, nak or term), with when each arrived, oldest first. */
  private readonly unanswered = new Map<JsMsg, number>();
  /** Reactions that returned with a part unfinished: stop() waits for them. */
  private readonly unfinished = new Set<Promise<void>>();
  private keepAlive: ReturnType<typeof setInterval> | undefined;

  constructor(
    private readonly nats: Nats,
    readonly reactor: Reactor,
    private readonly log: Logger,
    options: ReactorOptions = {},
  ) {
    // Reactions mostly wait on the log (a load, an append), so many run at once; a subject's events
    // still wait for each other. 64 capped a scheduler near 230 jobs/s (heartbeat benchmark).
    this.concurrency = options.concurrency ?? 256;
    // Short, so that a delivery lost with a connection (nats-server restarted, a network cut) comes
    // again soon: it was 30 s, and a run-now stored just before an outage got its job that much
    // later. A reaction that takes longer is kept from redelivery by `working()` (extendLongOnes).
    this.ackWaitMs = options.ackWaitMs ?? 10_000;
    this.onCommit = options.onCommit;
  }

  async start(): Promise<void> {
    await ensureReactorConsumer(this.nats, this.reactor, this.ackWaitMs);
    this.keepAlive = setInterval(() => this.extendLongOnes(), this.ackWaitMs / 3);
    this.keepAlive.unref();
    this.loop = this.run();
  }

  private async run(): Promise<void> {
    while (!this.stopping) {
      try {
        const consumer = await this.nats.js.consumers.get(
          this.reactor.stream ?? streamNames.events,
          this.reactor.name,
        );
        const messages = await consumer.consume({
          max_messages: this.concurrency * 2,
          expires: CONSUME_EXPIRES_MS,
        });
        this.stopConsumer = () => messages.stop();
        for await (const m of messages) {
          if (this.stopping) break;
          const commit = observedCommit(m);
          this.onCommit?.(commit);
          if (this.isOfNoInterest(m)) {
            m.ack();
            continue;
          }
          this.unanswered.set(m, Date.now());
          await this.slot();
          this.dispatch(m, commit);
        }
      } catch (err) {
        if (this.stopping) break;
        this.log.error('reactor consumer failed; restarting', { reactor: this.reactor.name, error: err });
        await new Promise((r) => setTimeout(r, 1000));
      }
    }
    await Promise.all(this.chains.values());
  }

  /**
   * Tells the server that deliveries waiting for more than a third of the ack wait (a slow reaction,
   * or one queued behind its subject's) are still being worked on, so it does not deliver them again
   * meanwhile. One sweep for all of them: a timer per delivery cost more than the deliveries.
   */
  private extendLongOnes(): void {
    const now = Date.now();
    const due = now - this.ackWaitMs / 3;
    for (const [m, since] of this.unanswered) {
      if (since > due) break;
      // A reaction stuck this long is left to the server to deliver again (here or to a replica).
      if (now - since > MAX_KEPT_ALIVE_MS) continue;
      try {
        m.working();
      } catch {
        // The connection is closing or gone: the delivery will come again anyway.
        return;
      }
    }
  }

  /** Called as a delivery is acked, nak'd or termed: the sweep no longer extends it. */
  private answered(m: JsMsg): void {
    this.unanswered.delete(m);
  }

  private isOfNoInterest(m: JsMsg): boolean {
    const wanted = this.reactor.eventTypes;
    const types = m.headers?.get(EVENT_TYPES_HEADER);
    if (!wanted || !types) return false;
    return !types.split(',').some((t) => wanted.has(t));
  }

  private async slot(): Promise<void> {
    while (this.inFlight >= this.concurrency) await new Promise<void>((r) => this.slotFreed.push(r));
  }

  private dispatch(m: JsMsg, commit: ObservedCommit): void {
    this.inFlight++;
    const previous = this.chains.get(m.subject) ?? Promise.resolve();
    const next = previous.then(() => this.handle(m, commit));
    this.chains.set(m.subject, next);
    void next.finally(() => {
      if (this.chains.get(m.subject) === next) this.chains.delete(m.subject);
      this.inFlight--;
      this.slotFreed.shift()?.();
    });
  }

  /**
   * One CONSUMER span per reaction to a commit, parented to the commit's PRODUCER span (its
   * traceparent header): the commands the reaction sends, and the messages it publishes, continue the
   * trace of whoever decided the commit.
   */
  private handle(m: JsMsg, commit: ObservedCommit): Promise<void> {
    return processMessage(
      {
        template: subjectTemplate(m.subject),
        subject: m.subject,
        consumer: this.reactor.name,
        ...(m.headers?.get('Nats-Msg-Id') ? { messageId: m.headers.get('Nats-Msg-Id') } : {}),
        attributes: { 'messaging.nats.delivery_count': m.info.deliveryCount },
      },
      m.headers,
      (span) => this.react(m, commit, span),
    );
  }

  private async react(m: JsMsg, commit: ObservedCommit, span: Span): Promise<void> {
    let events: readonly EventEnvelope[];
    try {
      events = commit.events();
    } catch (err) {
      failSpan(span, err, 'unreadable_commit');
      this.log.error('unreadable commit skipped', {
        reactor: this.reactor.name,
        sequence: m.seq,
        error: err,
      });
      this.answered(m);
      m.term();
      return;
    }
    const rests: Promise<void>[] = [];
    try {
      for (const e of events) keepRest(rests, await this.reactor.react(e, m.seq));
    } catch (err) {
      // What an earlier event of the commit left unfinished runs on; the redelivery repeats it anyway.
      this.settle(m, err, span);
      return;
    }
    const rest = unfinishedOf(rests)?.rest;
    if (!rest) {
      this.settle(m, undefined, span);
      return;
    }
    // The span ends with what ran here; the rest is logged if it fails.
    const done = rest
      .then(
        () => this.settle(m, undefined),
        (err: unknown) => this.settle(m, err),
      )
      // The connection closed under it: the server delivers the event again.
      .catch(() => {});
    this.unfinished.add(done);
    void done.finally(() => this.unfinished.delete(done));
  }

  /** Acks a reaction that ended well or was refused by the domain; retries one that failed. */
  private settle(m: JsMsg, err: unknown, span?: Span): void {
    this.answered(m);
    if (err === undefined) {
      m.ack();
      return;
    }
    if (isRefusal(err)) {
      // The domain refused: retrying the same command would be refused again.
      span?.setAttribute('chronoverse.refusal', err.code);
      this.log.warn('reaction refused by the domain', {
        reactor: this.reactor.name,
        sequence: m.seq,
        code: err.code,
        message: err.message,
      });
      m.ack();
      return;
    }
    if (span) failSpan(span, err);
    const delay = Math.min(30_000, 500 * 2 ** Math.min(6, m.info.deliveryCount));
    this.log.error('reaction failed; will retry', {
      reactor: this.reactor.name,
      sequence: m.seq,
      delay_ms: delay,
      error: err,
    });
    m.nak(delay);
  }

  async stop(): Promise<void> {
    this.stopping = true;
    this.stopConsumer?.();
    await this.loop;
    await Promise.all(this.unfinished);
    clearInterval(this.keepAlive);
    // What was delivered and never answered (the loop left it for the next start) is the server's to
    // deliver again.
    this.unanswered.clear();
  }
}
