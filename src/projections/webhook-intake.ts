// Webhook intake: a projection of the log (on the projector's shared reader) that records, for every
// workflow or job event, one delivery row per enabled subscription of its user that asks for its
// type (and its workflow, or all). A batch's rows and its checkpoint commit in one transaction, so
// the deliveries owed are in PostgreSQL exactly when the checkpoint passes their commits, a killed
// worker resumes after the last batch, and a commit seen twice records nothing twice (the row's key
// is event × subscription). The checkpoint is the sender's watermark (src/reactors/webhook-dispatcher.ts).
// Subscriptions see the events that occurred after they were created and while they are enabled (as
// of a snapshot at most a fraction of a second old: webhook-subscriptions.ts).
//
// It was a durable consumer of its own until 2026-12: a second delivery and acknowledgement of every
// commit, a fifth of nats-server's messages per job. `adoptIntakeConsumer` moves that consumer's
// position here once.
import { type ConsumerInfo, JetStreamApiCodes, JetStreamApiError } from '@nats-io/jetstream';
import type { Insertable, Kysely } from 'kysely';
import type { CommandHandler } from '../actors/command-handler.ts';
import { jobDecider } from '../actors/job-decider.ts';
import type { EventEnvelope } from '../events/envelope.ts';
import { nameBasedUuid } from '../events/name-based-id.ts';
import { streamNames } from '../events/stream-definitions.ts';
import { isWebhookEventType } from '../events/webhook-event-types.ts';
import type { Database } from '../infra/database.ts';
import type { Nats } from '../infra/nats-connection.ts';
import { readCheckpoint, writeCheckpoint } from './checkpoint.ts';
import type { Projection } from './projection.ts';
import { subscriptionsOwed, WebhookSubscriptions } from './webhook-subscriptions.ts';

/** The intake's projection name (and its former durable consumer's): its checkpoint is the sender's watermark. */
export const WEBHOOK_INTAKE = 'webhook_intake';
const INTAKE_VERSION = 1;
/** Rows per insert statement (12 parameters each, well under PostgreSQL's 65,535). */
const ROWS_PER_INSERT = 1000;

/** The JSON a receiver gets: the event as the live stream shows it, with its id, workflow and position. */
export function deliveryBody(e: EventEnvelope, workflowId: string, sequence: number): string {
  return JSON.stringify({
    id: e.id,
    type: e.type,
    occurred_at: e.occurredAt,
    workflow_id: workflowId,
    aggregate: e.aggregate,
    aggregate_id: e.aggregateId,
    sequence,
    data: e.data,
  });
}

export function deliveryId(webhookId: string, eventId: string): string {
  return nameBasedUuid(`webhook-delivery\n${webhookId}\n${eventId}`);
}

export interface WebhookIntakeDeps {
  readonly db: Kysely<Database>;
  readonly commands: Pick<CommandHandler, 'loadAtLeast'>;
  readonly now: () => Date;
}

type DeliveryRow = Insertable<Database['webhook_deliveries']>;

export function webhookIntake(deps: WebhookIntakeDeps): Projection {
  const subscriptions = new WebhookSubscriptions(deps.db, deps.now);
  return {
    name: WEBHOOK_INTAKE,
    version: INTAKE_VERSION,
    // The projector's shared reader reads the whole log; the events of other aggregates are skipped here.
    subjects: ['cv.evt.>'],
    // Each batch is a transaction with its checkpoint (and, under a steady stream, a fresh read of the
    // subscriptions, which answer only for events before they were read): at the read models' 20 ms
    // that cost PostgreSQL ~5% of a core more at ~450 jobs/s. The sender polls every 500 ms anyway.
    minBatchIntervalMs: 200,
    async applyBatch(tx, commits) {
      const events = commits.flatMap((c) =>
        c.events.filter((e) => isWebhookEventType(e.type)).map((e) => ({ e, c })),
      );
      if (events.length === 0) return;
      // One snapshot answers for the whole batch: read after its latest event occurred.
      const latest = events.reduce(
        (at, { e }) => (e.occurredAt > at ? e.occurredAt : at),
        events[0]!.e.occurredAt,
      );
      const snapshot = await subscriptions.for(latest);
      // A job event names its job; its workflow is in the job's JobCreated, in this batch or in the log.
      const workflowOfJob = new Map<string, string>();
      const workflowOf = async (e: EventEnvelope): Promise<string> => {
        if (e.aggregate === 'workflow') return e.aggregateId;
        if (e.type === 'JobCreated') return e.data.workflow_id;
        const known = workflowOfJob.get(e.aggregateId);
        if (known) return known;
        const job = await deps.commands.loadAtLeast(jobDecider, e.userId, e.aggregateId, 0);
        return job.state.context.workflow_id;
      };
      const now = deps.now();
      const rows: DeliveryRow[] = [];
      for (const { e, c } of events) {
        if (e.type === 'JobCreated') workflowOfJob.set(e.aggregateId, e.data.workflow_id);
        if (!snapshot.byUser.has(e.userId)) continue;
        const workflowId = await workflowOf(e);
        const owed = subscriptionsOwed(snapshot, e, workflowId);
        if (owed.length === 0) continue;
        const body = deliveryBody(e, workflowId, c.sequence);
        for (const s of owed) {
          rows.push({
            id: deliveryId(s.id, e.id),
            webhook_id: s.id,
            user_id: e.userId,
            event_id: e.id,
            event_type: e.type,
            workflow_id: workflowId,
            sequence: c.sequence,
            body,
            status: 'pending' as const,
            attempts: 0,
            next_attempt_at: now,
            created_at: now,
          });
        }
      }
      for (let i = 0; i < rows.length; i += ROWS_PER_INSERT) {
        await tx
          .insertInto('webhook_deliveries')
          .values(rows.slice(i, i + ROWS_PER_INSERT))
          .onConflict((c) => c.columns(['webhook_id', 'event_id']).doNothing())
          .execute();
      }
    },
    // Deliveries are not a read model: a replay (a version change, or a first start on a log part of
    // which is archived) keeps the rows, and re-records only what is missing (the key is event ×
    // subscription; the subscription snapshot lists only what was created before each event).
    async reset() {},
  };
}

/**
 * Once, on the first start of a projector with the intake as a projection: its checkpoint starts at
 * the former durable consumer's ack floor (every commit at or below it was recorded), and the
 * consumer is deleted (left, it would hold back the log's retention forever). Killed between the two
 * steps, the next start finds the checkpoint and only deletes.
 */
export async function adoptIntakeConsumer(nats: Nats, db: Kysely<Database>): Promise<void> {
  let consumer: ConsumerInfo;
  try {
    consumer = await nats.jsm.consumers.info(streamNames.events, WEBHOOK_INTAKE);
  } catch (err) {
    if (isConsumerNotFound(err)) return;
    throw err;
  }
  await db.transaction().execute(async (tx) => {
    const row = await tx
      .selectFrom('projection_checkpoints')
      .select('projection')
      .where('projection', '=', WEBHOOK_INTAKE)
      .executeTakeFirst();
    if (!row) await writeCheckpoint(tx, WEBHOOK_INTAKE, INTAKE_VERSION, consumer.ack_floor.stream_seq);
  });
  // Two projector replicas upgraded at once both adopt (the same floor); the second delete finds none.
  await nats.jsm.consumers.delete(streamNames.events, WEBHOOK_INTAKE).catch((err: unknown) => {
    if (!isConsumerNotFound(err)) throw err;
  });
}

function isConsumerNotFound(err: unknown): boolean {
  return err instanceof JetStreamApiError && err.code === JetStreamApiCodes.ConsumerNotFound;
}

/** The intake's checkpoint: every commit at or below it has its deliveries recorded. */
export function intakeWatermark(db: Kysely<Database>): () => Promise<number> {
  return () => readCheckpoint(db, WEBHOOK_INTAKE);
}
