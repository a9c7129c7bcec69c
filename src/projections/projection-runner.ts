// Runs projections live: one ordered consumer of CV_EVENTS, from the lowest of their checkpoints + 1,
// decodes each commit once and offers it to every projection's applier (projection-applier.ts), each
// of which batches and commits on its own. Several projections on one consumer cost nats-server one
// delivery per commit instead of one per projection (the Postgres read models and the ClickHouse
// analytics read the same log). Reading pauses while a projection has too much waiting; one that
// keeps it paused (its store is down, or slow) is given a reader of its own, from its checkpoint, so
// that the others are never held back by it for long.
import { setTimeout as delay } from 'node:timers/promises';
import { DeliverPolicy } from '@nats-io/jetstream';
import type { Subscription } from '@nats-io/transport-node';
import { orderedFilter } from '../events/filter-subjects.ts';
import { streamNames } from '../events/stream-definitions.ts';
import { PROJECTIONS_HURRY_SUBJECT } from '../events/subjects.ts';
import { CONSUME_EXPIRES_MS } from '../infra/nats-connection.ts';
import { messageSpanContext } from '../telemetry/messaging.ts';
import { observeProjectionLag } from '../telemetry/metrics.ts';
import type { Projection } from './projection.ts';
import { ProjectionApplier } from './projection-applier.ts';
import { type ProjectionDeps, readCommit } from './projection-batch.ts';

export interface RunnerOptions {
  readonly batchSize?: number;
  /** How long one projection may keep reading paused before it gets a reader of its own (5 s). */
  readonly detachAfterMs?: number;
  /** Told after every batch any projection of this runner commits. */
  readonly onApplied?: () => void;
}

/** A projection that left the shared reader: its own runner, and the applier it had until then. */
interface Detached {
  readonly runner: ProjectionRunner;
  readonly before: ProjectionApplier;
  readonly started: Promise<void>;
}

export class ProjectionRunner {
  private stopping = false;
  private loop: Promise<void> | undefined;
  private stopConsumer: (() => void) | undefined;
  private readonly appliers: ProjectionApplier[];
  private readonly detached: Detached[] = [];
  private readonly waiters: { sequence: number; resolve: () => void }[] = [];
  readonly projections: readonly Projection[];
  private readonly subjects: readonly string[];
  private readonly batchSize: number;
  private readonly detachAfterMs: number;
  private readonly onApplied: (() => void) | undefined;
  /** The log's last sequence as the latest delivery told it (its sequence plus what is pending after it). */
  private head = 0;
  private unobserve: (() => void) | undefined;
  private hurrySubscription: Subscription | undefined;

  constructor(
    private readonly deps: ProjectionDeps,
    projections: Projection | readonly Projection[],
    options: RunnerOptions = {},
  ) {
    const list = Array.isArray(projections) ? projections : [projections as Projection];
    const subjects = list[0]?.subjects;
    if (!subjects) throw new Error('a projection runner needs at least one projection');
    if (list.some((p) => p.subjects.join(' ') !== subjects.join(' '))) {
      throw new Error('projections on one runner must read the same subjects');
    }
    this.projections = list;
    this.subjects = subjects;
    this.batchSize = options.batchSize ?? 1000;
    this.detachAfterMs = options.detachAfterMs ?? 5000;
    this.onApplied = options.onApplied;
    // Room for a few batches each: the ClickHouse analytics gather for a second while the read
    // models apply every 20 ms, and one must not hold the other back.
    this.appliers = list.map(
      (p) => new ProjectionApplier(deps, p, this.batchSize, this.batchSize * 4, () => this.applied()),
    );
  }

  /** The last sequence every projection of this runner has committed. */
  get position(): number {
    return Math.min(
      ...this.appliers.map((a) => a.applied),
      // Until its own runner has read its checkpoint, a detached projection is where it was left.
      ...this.detached.map((d) => Math.max(d.before.applied, d.runner.position)),
    );
  }

  async start(): Promise<void> {
    for (const a of this.appliers) await a.start();
    // A reader elsewhere (the API answering a mutation) waits for the read models: apply sooner.
    this.hurrySubscription = this.deps.nats.nc.subscribe(PROJECTIONS_HURRY_SUBJECT, {
      callback: () => this.hurry(),
    });
    // chronoverse.projection.lag: the commits each projection of this runner has yet to apply.
    this.unobserve = observeProjectionLag(() =>
      this.appliers.map((a) => ({ name: a.projection.name, lag: Math.max(0, this.head - a.applied) })),
    );
    this.loop = this.run();
  }

  private async run(): Promise<void> {
    const { nats, log } = this.deps;
    while (!this.stopping && this.appliers.length > 0) {
      try {
        // What is offered stays offered across a restart of the consumer: it resumes after the
        // commit the furthest-behind applier was last offered.
        const from = Math.min(...this.appliers.map((a) => a.offered)) + 1;
        const consumer = await nats.js.consumers.get(streamNames.events, {
          filter_subjects: orderedFilter(this.subjects),
          deliver_policy: DeliverPolicy.StartSequence,
          opt_start_seq: from,
        });
        const messages = await consumer.consume({
          max_messages: this.batchSize * 2,
          expires: CONSUME_EXPIRES_MS,
        });
        this.stopConsumer = () => messages.stop();
        if (this.stopping) messages.stop();
        for await (const m of messages) {
          if (this.stopping) break;
          this.head = Math.max(this.head, m.seq + m.info.pending);
          const offered = {
            sequence: m.seq,
            commit: readCommit(m, log),
            link: messageSpanContext(m.headers),
          };
          for (const a of this.appliers) a.offer(offered);
          await this.untilRoom();
        }
      } catch (err) {
        if (this.stopping) break;
        log.error('projection consumer failed; restarting', {
          projections: this.appliers.map((a) => a.projection.name),
          error: err,
        });
        await delay(1000);
      }
    }
  }

  /** Waits while a projection's buffer is full; one that stays full too long is detached. */
  private async untilRoom(): Promise<void> {
    for (let full = this.firstFull(); full && !this.stopping; full = this.firstFull()) {
      if (this.appliers.length === 1) {
        await full.whenRoom();
        continue;
      }
      const patience = new AbortController();
      const room = await Promise.race([
        full.whenRoom().then(() => true),
        delay(this.detachAfterMs, false, { signal: patience.signal }).catch(() => true),
      ]);
      patience.abort();
      if (!room && !this.stopping) this.detach(full);
    }
  }

  private firstFull(): ProjectionApplier | undefined {
    return this.appliers.find((a) => a.full);
  }

  private detach(applier: ProjectionApplier): void {
    this.appliers.splice(this.appliers.indexOf(applier), 1);
    this.deps.log.warn('projection kept the others waiting: it reads the log on its own now', {
      projection: applier.projection.name,
      applied: applier.applied,
      waited_ms: this.detachAfterMs,
    });
    const runner = new ProjectionRunner(this.deps, [applier.projection], {
      batchSize: this.batchSize,
      onApplied: () => this.applied(),
    });
    const started = (async () => {
      // What it buffered is dropped with it; its own reader starts after its checkpoint.
      await applier.stop();
      for (let attempt = 1; !this.stopping; attempt++) {
        try {
          await runner.start();
          return;
        } catch (err) {
          this.deps.log.error('detached projection could not start; retrying', {
            projection: applier.projection.name,
            attempt,
            error: err,
          });
          await delay(Math.min(5000, 100 * 2 ** attempt));
        }
      }
    })();
    this.detached.push({ runner, before: applier, started });
  }

  private applied(): void {
    const position = this.position;
    for (let i = this.waiters.length - 1; i >= 0; i--) {
      const w = this.waiters[i]!;
      if (w.sequence <= position) {
        this.waiters.splice(i, 1);
        w.resolve();
      }
    }
    this.onApplied?.();
  }

  /** Resolves once every projection of this runner has applied every commit up to `sequence`. */
  waitFor(sequence: number): Promise<void> {
    if (sequence <= this.position) return Promise.resolve();
    this.hurry();
    return new Promise((resolve) => this.waiters.push({ sequence, resolve }));
  }

  /** Someone waits: batches come at their projections' minimum interval for a while (ProjectionApplier.hurry). */
  hurry(): void {
    for (const a of this.appliers) a.hurry();
  }

  async stop(): Promise<void> {
    this.stopping = true;
    this.hurrySubscription?.unsubscribe();
    this.unobserve?.();
    this.stopConsumer?.();
    await Promise.all(this.appliers.map((a) => a.stop()));
    await this.loop;
    for (const d of this.detached) {
      await d.started;
      await d.runner.stop();
    }
  }
}
