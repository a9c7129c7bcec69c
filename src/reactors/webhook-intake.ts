// Webhook intake: a durable consumer of the log that records, for every workflow or job event, one
// delivery row per enabled subscription of its user that asks for its type (and its workflow, or
// all), before the event's commit is acknowledged. So the deliveries owed are in PostgreSQL before
// NATS forgets them, and a killed worker (or a redelivered commit: the row's key is event ×
// subscription) records each exactly once. Subscriptions see the events that occurred after they
// were created and while they are enabled (as of a snapshot at most a fraction of a second old:
// webhook-subscriptions.ts).
import type { Kysely } from 'kysely';
import type { CommandHandler } from '../actors/command-handler.ts';
import { jobDecider } from '../actors/job-decider.ts';
import type { EventEnvelope } from '../events/envelope.ts';
import { nameBasedUuid } from '../events/name-based-id.ts';
import { isWebhookEventType, WEBHOOK_EVENT_TYPES } from '../events/webhook-event-types.ts';
import type { Database } from '../infra/database.ts';
import type { Reactor } from './reactor.ts';
import { subscriptionsOwed, WebhookSubscriptions } from './webhook-subscriptions.ts';

/** The durable consumer of the intake; its ack floor is the watermark of the sender (webhook-dispatcher.ts). */
export const WEBHOOK_INTAKE = 'webhook_intake';

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

export function webhookIntake(deps: WebhookIntakeDeps): Reactor {
  // The workflow of a job event: a job's never changes, so any snapshot of the job will do.
  const workflowOf = async (e: EventEnvelope): Promise<string> => {
    if (e.aggregate === 'workflow') return e.aggregateId;
    if (e.type === 'JobCreated') return e.data.workflow_id;
    const job = await deps.commands.loadAtLeast(jobDecider, e.userId, e.aggregateId, 0);
    return job.state.context.workflow_id;
  };
  const subscriptions = new WebhookSubscriptions(deps.db, deps.now);
  return {
    name: WEBHOOK_INTAKE,
    subjects: ['cv.evt.*.workflow.>', 'cv.evt.*.job.>'],
    eventTypes: new Set(WEBHOOK_EVENT_TYPES),
    async react(e, sequence) {
      if (!isWebhookEventType(e.type)) return;
      const snapshot = await subscriptions.for(e.occurredAt);
      if (!snapshot.byUser.has(e.userId)) return;
      const workflowId = await workflowOf(e);
      const owed = subscriptionsOwed(snapshot, e, workflowId);
      if (owed.length === 0) return;
      const now = deps.now();
      const body = deliveryBody(e, workflowId, sequence);
      await deps.db
        .insertInto('webhook_deliveries')
        .values(
          owed.map((s) => ({
            id: deliveryId(s.id, e.id),
            webhook_id: s.id,
            user_id: e.userId,
            event_id: e.id,
            event_type: e.type,
            workflow_id: workflowId,
            sequence,
            body,
            status: 'pending' as const,
            attempts: 0,
            next_attempt_at: now,
            created_at: now,
          })),
        )
        .onConflict((c) => c.columns(['webhook_id', 'event_id']).doNothing())
        .execute();
    },
  };
}
