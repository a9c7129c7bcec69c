// GET and PATCH /users/me: the caller's profile. Reads come from the users read model, or from the
// user actor when the projection has not caught up yet (right after registering); changes go
// through the actor and answer with its new state, which is authoritative.
import { randomUUID } from 'node:crypto';
import { createRoute } from '@hono/zod-openapi';
import type { Kysely } from 'kysely';
import type { CommandHandler } from '../actors/command-handler.ts';
import { type UserSnapshot, userDecider } from '../actors/user-decider.ts';
import type { AuthServices } from '../auth/auth-services.ts';
import { NotFoundError } from '../errors.ts';
import type { Database } from '../infra/database.ts';
import { createRouter } from './app-env.ts';
import { json, problem, authSecurity as security, UpdateUserBody, User } from './auth-schemas.ts';
import { requireAuth } from './require-auth.ts';

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
  auth: Pick<AuthServices, 'tokens'>;
  commands: CommandHandler;
  db: Kysely<Database>;
}) {
  const { db, commands } = deps;
  const auth = requireAuth(deps.auth.tokens);
  const app = createRouter();

  /** The actor knows no creation time; the credentials row (written in the same step) does. */
  async function fromActor(userId: string, state: UserSnapshot): Promise<UserJson> {
    const creds = await db
      .selectFrom('user_credentials')
      .select('created_at')
      .where('user_id', '=', userId)
      .executeTakeFirst();
    if (!creds) throw new NotFoundError('user_not_found', 'The user does not exist');
    const { email, notification_preference } = state.context;
    return { id: userId, email, notification_preference, created_at: creds.created_at.toISOString() };
  }

  async function currentUser(userId: string): Promise<UserJson> {
    const row = await db
      .selectFrom('users')
      .select(['id', 'email', 'notification_preference', 'created_at'])
      .where('id', '=', userId)
      .executeTakeFirst();
    if (row) return { ...row, created_at: row.created_at.toISOString() };
    const actor = await commands.load(userDecider, userId, userId);
    if (!actor.exists) throw new NotFoundError('user_not_found', 'The user does not exist');
    return fromActor(userId, actor.state);
  }

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
    async (c) => c.json(await currentUser(c.var.userId), 200),
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
      });
      return c.json(await fromActor(userId, result.state), 200);
    },
  );

  return app;
}
