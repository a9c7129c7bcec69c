// GET and PATCH /users/me: the caller's profile. Reads come from the users read model, or from the
// user actor when the projection has not caught up yet (right after registering); changes go
// through the actor and answer with its new state, which is authoritative.
import { randomUUID } from 'node:crypto';
import { createRoute } from '@hono/zod-openapi';
import type { CommandHandler } from '../actors/command-handler.ts';
import { userDecider } from '../actors/user-decider.ts';
import type { AuthServices } from '../auth/auth-services.ts';
import type { Db } from '../queries/db.ts';
import { currentUser, type UserView, userFromState } from '../queries/users.ts';
import { createRouter } from './app-env.ts';
import { json, problem, authSecurity as security, UpdateUserBody, User } from './auth-schemas.ts';
import { requestOrigin, requireAuth } from './require-auth.ts';

const tags = ['users'];
const errors = {
  401: problem('Not authenticated (authentication_required, invalid_token, token_expired)'),
  404: problem('The user does not exist (user_not_found)'),
} as const;

type UserJson = {
  id: string;
  email: string;
  notification_preference: 'ALERTS' | 'ALL' | 'NONE';
  created_at: string;
};

export function userMeRoutes(deps: {
  auth: Pick<AuthServices, 'tokens' | 'apiKeys'>;
  commands: CommandHandler;
  db: Db;
}) {
  const { db, commands } = deps;
  const auth = requireAuth(deps.auth);
  const app = createRouter();

  const userJson = (u: UserView): UserJson => ({
    id: u.id,
    email: u.email,
    notification_preference: u.notification_preference,
    created_at: u.created_at.toISOString(),
  });

  app.openapi(
    createRoute({
      method: 'get',
      path: '/users/me',
      tags,
      security,
      middleware: [auth] as const,
      summary: 'The caller',
      responses: { 200: json(User, 'The caller'), ...errors },
    }),
    async (c) => c.json(userJson(await currentUser(db, commands, c.var.userId)), 200),
  );

  app.openapi(
    createRoute({
      method: 'patch',
      path: '/users/me',
      tags,
      security,
      middleware: [auth] as const,
      summary: 'Change the notification preference',
      request: { body: { content: { 'application/json': { schema: UpdateUserBody } }, required: true } },
      responses: {
        200: json(User, 'The caller, changed'),
        ...errors,
        403: problem('Cookie-authenticated without a matching X-CSRF-Token (csrf_token_mismatch)'),
        422: problem('Invalid notification_preference'),
      },
    }),
    async (c) => {
      const userId = c.var.userId;
      const result = await commands.handle(userDecider, {
        commandId: randomUUID(),
        userId,
        aggregateId: userId,
        command: { type: 'ChangeUserPreferences', data: c.req.valid('json') },
        ...requestOrigin(c),
      });
      return c.json(userJson(await userFromState(db, userId, result.state)), 200);
    },
  );

  return app;
}
