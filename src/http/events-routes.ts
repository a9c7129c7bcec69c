// GET /events: the signed-in user's workflow and job state changes and new notifications, live, as
// server-sent events. The source is an ordered consumer on CV_EVENTS filtered to cv.evt.<userId>.>,
// so a user never sees another's events; ids are stream sequences, so Last-Event-ID resumes exactly
// after the last commit the client saw.
import { createRoute, z } from '@hono/zod-openapi';
import { DeliverPolicy } from '@nats-io/jetstream';
import { ValidationError } from '../errors.ts';
import type { EventEnvelope } from '../events/envelope.ts';
import { decodeCommit } from '../events/event-store.ts';
import { notificationDraft, notificationFor } from '../events/notification-rules.ts';
import { streamNames } from '../events/stream-definitions.ts';
import { userEventsFilter } from '../events/subjects.ts';
import type { NotificationRow, UserTable } from '../infra/database.ts';
import { notificationPreference } from '../queries/users.ts';
import { WorkflowDirectory } from '../queries/workflow-directory.ts';
import type { Logger } from '../telemetry/logger.ts';
import { createRouter } from './app-env.ts';
import { security } from './openapi-helpers.ts';
import { commonErrors } from './problem-schema.ts';
import type { RouteDeps } from './route-deps.ts';
import type { StreamSources } from './sse-sources.ts';
import { openSse, type SseChannel } from './sse-stream.ts';

type Preference = UserTable['notification_preference'];

export interface EventsRouteDeps extends RouteDeps {
  readonly sources: StreamSources;
  readonly log: Logger;
}

const Headers = z.object({
  'last-event-id': z
    .string()
    .regex(/^\d{1,15}$/, 'must be an id this stream gave out')
    .optional()
    .openapi({
      description: 'The id of the last event received; without it the stream starts with new events',
    }),
});

/** The state event's data, as JSON. */
export function stateJson(e: EventEnvelope) {
  return {
    type: e.type,
    aggregate: e.aggregate,
    aggregate_id: e.aggregateId,
    occurred_at: e.occurredAt,
    data: e.data,
  };
}

function notificationJson(n: NotificationRow) {
  const at = n.created_at instanceof Date ? n.created_at : new Date(n.created_at ?? Date.now());
  return {
    id: n.id,
    kind: n.kind,
    title: n.title,
    message: n.message,
    entity_id: n.entity_id,
    entity_type: n.entity_type,
    action_url: n.action_url,
    read_at: null,
    created_at: at.toISOString(),
  };
}

/** The user's commits after `after` (or from now on), consumed in order. */
async function subscribeUserEvents(deps: EventsRouteDeps, userId: string, after: number | undefined) {
  const nats = await deps.sources.nats();
  const consumer = await nats.js.consumers.get(streamNames.events, {
    filter_subjects: userEventsFilter(userId),
    ...(after === undefined
      ? { deliver_policy: DeliverPolicy.New }
      : { deliver_policy: DeliverPolicy.StartSequence, opt_start_seq: after + 1 }),
  });
  return { consumer, messages: await consumer.consume({ max_messages: 256 }) };
}

async function streamUserEvents(
  deps: EventsRouteDeps,
  userId: string,
  { consumer, messages }: Awaited<ReturnType<typeof subscribeUserEvents>>,
  preference: Preference,
  channel: SseChannel,
): Promise<void> {
  const stop = () => messages.stop();
  channel.signal.addEventListener('abort', stop, { once: true });
  const directory = new WorkflowDirectory(deps.db, deps.commands, userId);
  let current = preference;
  try {
    if (channel.signal.aborted) return;
    for await (const m of messages) {
      let events: EventEnvelope[];
      try {
        events = decodeCommit(m.data);
      } catch (err) {
        deps.log.warn('unreadable commit skipped in /events', { sequence: m.seq, error: err });
        continue;
      }
      const id = String(m.seq);
      for (const e of events) {
        directory.observe(e);
        if (e.aggregate === 'user') {
          if (e.type === 'UserPreferencesChanged') current = e.data.notification_preference;
          continue;
        }
        await channel.send({ event: 'state', id, data: JSON.stringify(stateJson(e)) });
        // Only events that can notify cost a lookup of their workflow.
        if (!notificationDraft(e, { workflowName: '' })) continue;
        const wf = await directory.workflowOf(e);
        const n = wf && notificationFor(e, current, wf);
        if (n) await channel.send({ event: 'notification', id, data: JSON.stringify(notificationJson(n)) });
      }
      if (channel.signal.aborted) break;
    }
  } finally {
    channel.signal.removeEventListener('abort', stop);
    messages.stop();
    await consumer.delete().catch(() => {});
  }
}

export function eventsRoutes(deps: EventsRouteDeps) {
  const app = createRouter();

  app.openapi(
    createRoute({
      method: 'get',
      path: '/events',
      tags: ['events'],
      security,
      summary: "The signed-in user's state changes and notifications, live (server-sent events)",
      request: { headers: Headers },
      responses: {
        200: {
          description: 'Server-sent events; resume with Last-Event-ID',
          content: {
            'text/event-stream': {
              schema: z.string().openapi({
                description:
                  'Events `state` (data: {type, aggregate, aggregate_id, occurred_at, data}) for every workflow and job event, and `notification` (data: a Notification) for each new notification; the id of both is the stream sequence of the commit. Comments `: keep-alive` every 15 s.',
              }),
            },
          },
        },
        ...commonErrors,
      },
    }),
    async (c) => {
      const header = c.req.valid('header')['last-event-id'];
      const after = header === undefined ? undefined : Number(header);
      if (after !== undefined && !Number.isSafeInteger(after))
        throw new ValidationError(
          'invalid_last_event_id',
          'Last-Event-ID is not an id this stream gave out',
          {
            field: 'last-event-id',
          },
        );
      const userId = c.var.userId;
      const preference = await notificationPreference(deps.db, userId);
      // Subscribed before the response starts: a client that sees 200 misses nothing after it.
      const subscription = await subscribeUserEvents(deps, userId, after);
      return openSse(c, deps.log, (channel) =>
        streamUserEvents(deps, userId, subscription, preference ?? 'ALERTS', channel),
      );
    },
  );

  return app;
}
