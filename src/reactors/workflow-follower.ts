// Keeps a command handler's workflow snapshots current as commits are stored, not as the reactors'
// consumer gets to them (the scheduler) or never (the API: only its own appends and reads). A
// workflow has two writers, the API (run-now, edits) and the scheduler (ticks, job ends recorded), and
// each decided on a snapshot missing the other's latest commits: heartbeat benchmark, 1,000 run-nows
// a second, 0.57 conflicts per job in the scheduler and 0.5–0.7 in the submitter, each a refused
// append, a reload by direct gets and a second append. An ordered consumer of workflow subjects
// only, from the newest commit on: no acks, no durable state; the handler extends a cached snapshot
// only with the commit that follows it (`observe`), and one it cannot extend is read again at its
// next use, as before.
import { DeliverPolicy } from '@nats-io/jetstream';
import type { CommandHandler } from '../actors/command-handler.ts';
import { observedCommit } from '../events/event-store.ts';
import { streamNames } from '../events/stream-definitions.ts';
import { CONSUME_EXPIRES_MS, type Nats } from '../infra/nats-connection.ts';
import type { Logger } from '../telemetry/logger.ts';

/** The follower of each command handler, shared by the roles of one process (`chronoverse all`). */
const followers = new WeakMap<CommandHandler, { follower: WorkflowFollower; users: number }>();

/**
 * Starts following workflows for `commands`, or joins the follower this process already runs for it.
 * The returned stop ends it when its last user stops.
 */
export function followWorkflows(
  nats: Nats,
  commands: CommandHandler,
  log: Logger,
): { stop(): Promise<void> } {
  let entry = followers.get(commands);
  if (!entry) {
    entry = { follower: new WorkflowFollower(nats, commands, log), users: 0 };
    followers.set(commands, entry);
    entry.follower.start();
  }
  entry.users++;
  const joined = entry;
  let stopped = false;
  return {
    async stop() {
      if (stopped) return;
      stopped = true;
      if (--joined.users > 0) return;
      followers.delete(commands);
      await joined.follower.stop();
    },
  };
}

export class WorkflowFollower {
  /** The stream sequence of the last commit delivered (0: none yet). */
  position = 0;
  /** Resolves once the consumer exists: every commit stored after that is followed. */
  readonly ready: Promise<void>;
  private markReady: () => void = () => {};

  private stopping = false;
  private loop: Promise<void> | undefined;
  private stopConsumer: (() => void) | undefined;

  constructor(
    private readonly nats: Nats,
    private readonly commands: CommandHandler,
    private readonly log: Logger,
  ) {
    this.ready = new Promise((resolve) => {
      this.markReady = resolve;
    });
  }

  start(): void {
    this.loop = this.run();
  }

  private async run(): Promise<void> {
    while (!this.stopping) {
      try {
        const consumer = await this.nats.js.consumers.get(streamNames.events, {
          filter_subjects: 'cv.evt.*.workflow.>',
          deliver_policy: DeliverPolicy.New,
        });
        const messages = await consumer.consume({ max_messages: 1000, expires: CONSUME_EXPIRES_MS });
        this.stopConsumer = () => messages.stop();
        if (this.stopping) messages.stop();
        this.markReady();
        for await (const m of messages) {
          this.commands.observe(observedCommit(m), 'workflow');
          this.position = m.seq;
        }
      } catch (err) {
        if (this.stopping) break;
        this.log.warn('workflow follower failed; restarting', { error: err });
        await new Promise((r) => setTimeout(r, 1000));
      }
    }
  }

  async stop(): Promise<void> {
    this.stopping = true;
    this.stopConsumer?.();
    await this.loop;
  }
}
