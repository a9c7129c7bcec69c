// /notifications: the caller's notifications, unread first then newest; marking some read is a
// command on the user actor, so read marks survive a rebuild of the read model.
import { randomUUID } from 'node:crypto';
import { createRoute, z } from '@hono/zod-openapi';
import { userDecider } from '../actors/user-decider.ts';
import { listNotifications } from '../queries/notifications.ts';
import { mapPage } from '../queries/paging.ts';
import { waitForReadModel } from '../queries/read-your-writes.ts';
import { createRouter } from './app-env.ts';
import { json, security } from './openapi-helpers.ts';
import { commonErrors } from './problem-schema.ts';
import { requestOrigin } from './require-auth.ts';
import type { RouteDeps } from './route-deps.ts';

const tags = ['notifications'];

const Notification = z
  .object({
    id: z.string(),
    kind: z.enum(['WEB_ALERT', 'WEB_ERROR', 'WEB_WARN', 'WEB_SUCCESS', 'WEB_INFO']),
    title: z.string(),
    message: z.string(),
    entity_id: z.string(),
    entity_type: z.enum(['WORKFLOW', 'JOB', 'WEBHOOK']),
    action_url: z.string(),
    read_at: z.string().nullable(),
    created_at: z.string(),
  })
  .openapi('Notification');

const NotificationPage = z
  .object({ items: z.array(Notification), next_cursor: z.string().nullable() })
  .openapi('NotificationPage');

const ListQuery = z.object({
  cursor: z.string().max(512).optional(),
  limit: z.coerce.number().int().min(1).max(1000).default(100),
  unread: z
    .enum(['true', 'false'])
    .optional()
    .openapi({ description: 'true: only unread notifications (the original showed only those)' }),
});

const ReadBody = z
  .strictObject({ ids: z.array(z.string().min(1).max(128)).min(1).max(1000) })
  .openapi('MarkNotificationsRead');

export function notificationRoutes(deps: RouteDeps) {
  const app = createRouter();

  app.openapi(
    createRoute({
      method: 'get',
      path: '/notifications',
      tags,
      security,
      request: { query: ListQuery },
      responses: { 200: json(NotificationPage, 'Unread first, then newest'), ...commonErrors },
    }),
    async (c) => {
      const q = c.req.valid('query');
      const page = await listNotifications(deps.db, c.var.userId, {
        unread: q.unread === 'true',
        cursor: q.cursor,
        limit: q.limit,
      });
      return c.json(
        mapPage(page, (n) => ({
          ...n,
          read_at: n.read_at ? n.read_at.toISOString() : null,
          created_at: n.created_at.toISOString(),
        })),
        200,
      );
    },
  );

  app.openapi(
    createRoute({
      method: 'post',
      path: '/notifications/read',
      tags,
      security,
      request: { body: { content: { 'application/json': { schema: ReadBody } }, required: true } },
      responses: { 204: { description: 'Marked read' }, ...commonErrors },
    }),
    async (c) => {
      const { ids } = c.req.valid('json');
      const userId = c.var.userId;
      const result = await deps.commands.handle(userDecider, {
        commandId: randomUUID(),
        userId,
        aggregateId: userId,
        command: { type: 'MarkNotificationsRead', data: { ids } },
        ...requestOrigin(c),
      });
      await waitForReadModel(deps.db, result.version, deps.readModelWait);
      return c.body(null, 204);
    },
  );

  return app;
}
