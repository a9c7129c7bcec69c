// Runs projections live: one ordered consumer of CV_EVENTS, from the lowest of their checkpoints + 1,
// decodes each commit once and offers it to every projection's applier (projection-applier.ts), each
// of which batches and commits on its own. Several projections on one consumer cost nats-server one
// delivery per commit instead of one per projection (the Postgres read models and the ClickHouse
// analytics read the same log). Reading pauses while any applier has too much waiting.
import { DeliverPolicy } from '@nats-io/jetstream';
import { orderedFilter } from '../events/filter-subjects.ts';
import { streamNames } from '../events/stream-definitions.ts';
import type { Projection } from './projection.ts';
import { ProjectionApplier } from './projection-applier.ts';
import { type ProjectionDeps, readCommit } from './projection-batch.ts';

export interface RunnerOptions {
  readonly batchSize?: number;
}

export class ProjectionRunner {
  private stopping = false;
  private loop: Promise<void> | undefined;
  private stopConsumer: (() => void) | undefined;
  private readonly appliers: ProjectionApplier[];
  private readonly subjects: readonly string[];
  private readonly batchSize: number;

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
    this.subjects = subjects;
    this.batchSize = options.batchSize ?? 1000;
    // Room for a few batches each: the ClickHouse analytics gather for a second while the read
    // models apply every 20 ms, and one must not hold the other back.
    this.appliers = list.map((p) => new ProjectionApplier(deps, p, this.batchSize, this.batchSize * 4));
  }

  get projections(): readonly Projection[] {
    return this.appliers.map((a) => a.projection);
  }

  /** The last sequence every projection of this runner has committed. */
  get position(): number {
    return Math.min(...this.appliers.map((a) => a.applied));
  }

  async start(): Promise<void> {
    for (const a of this.appliers) await a.start();
    this.loop = this.run();
  }

  private async run(): Promise<void> {
    const { nats, log } = this.deps;
    while (!this.stopping) {
      try {
        // What is offered stays offered across a restart of the consumer: it resumes after the
        // commit the furthest-behind applier was last offered.
        const from = Math.min(...this.appliers.map((a) => a.offered)) + 1;
        const consumer = await nats.js.consumers.get(streamNames.events, {
          filter_subjects: orderedFilter(this.subjects),
          deliver_policy: DeliverPolicy.StartSequence,
          opt_start_seq: from,
        });
        const messages = await consumer.consume({ max_messages: this.batchSize * 2 });
        this.stopConsumer = () => messages.stop();
        if (this.stopping) messages.stop();
        for await (const m of messages) {
          if (this.stopping) break;
          const offered = { sequence: m.seq, commit: readCommit(m, log) };
          for (const a of this.appliers) a.offer(offered);
          for (let full = this.firstFull(); full && !this.stopping; full = this.firstFull()) {
            await full.whenRoom();
          }
        }
      } catch (err) {
        if (this.stopping) break;
        log.error('projection consumer failed; restarting', {
          projections: this.appliers.map((a) => a.projection.name),
          error: err,
        });
        await new Promise((r) => setTimeout(r, 1000));
      }
    }
  }

  private firstFull(): ProjectionApplier | undefined {
    return this.appliers.find((a) => a.full);
  }

  /** Resolves once every projection of this runner has applied every commit up to `sequence`. */
  async waitFor(sequence: number): Promise<void> {
    await Promise.all(this.appliers.map((a) => a.waitFor(sequence)));
  }

  async stop(): Promise<void> {
    this.stopping = true;
    this.stopConsumer?.();
    await Promise.all(this.appliers.map((a) => a.stop()));
    await this.loop;
  }
}
