// Request and response bodies of the auth and /users/me routes (snake_case, named in the OpenAPI
// document), and the problem answers they give.
import { z } from '@hono/zod-openapi';
import { ProblemSchema } from './problem-schema.ts';

// Emails are compared lower-cased everywhere: stored, looked up and rate-limited that way.
const Email = z.email().max(254).toLowerCase().openapi({ example: 'ada@example.com' });

export const RegisterBody = z
  .object({
    email: Email,
    password: z.string().min(8).max(128).openapi({ example: 'correct horse battery staple' }),
  })
  .openapi('RegisterRequest');

export const LoginBody = z
  .object({
    email: Email,
    // Bounded so that nobody makes the server hash megabytes; the register limits are not re-checked.
    password: z.string().min(1).max(128),
  })
  .openapi('LoginRequest');

export const RefreshBody = z
  .object({
    refresh_token: z
      .string()
      .min(1)
      .max(512)
      .optional()
      .openapi({ description: 'Omit to use the cv_refresh cookie (then X-CSRF-Token is required)' }),
  })
  .openapi('RefreshRequest');

export const RegisteredUser = z.object({ id: z.uuid(), email: z.string() }).openapi('RegisteredUser');

export const TokenPair = z
  .object({
    access_token: z.string().openapi({ description: 'JWT (EdDSA); send as `Authorization: Bearer …`' }),
    token_type: z.literal('Bearer'),
    expires_in: z.number().int().openapi({ description: 'Seconds until the access token expires' }),
    refresh_token: z.string().openapi({ description: 'Opaque, single use: exchange at /auth/refresh' }),
  })
  .openapi('TokenPair');

export const NotificationPreference = z.enum(['ALERTS', 'ALL', 'NONE']).openapi('NotificationPreference');

export const User = z
  .object({
    id: z.string(),
    email: z.string(),
    notification_preference: NotificationPreference,
    created_at: z.iso.datetime(),
  })
  .openapi('User');

export const UpdateUserBody = z
  .object({ notification_preference: NotificationPreference })
  .openapi('UpdateUser');

/** OpenAPI security of a requireAuth route: either scheme (registered by authRoutes) will do. */
export const authSecurity: Record<string, string[]>[] = [{ bearerAuth: [] }, { cookieAuth: [] }];

export const problem = (description: string) => ({
  content: { 'application/problem+json': { schema: ProblemSchema } },
  description,
});

export const json = <T extends z.ZodType>(schema: T, description: string) => ({
  content: { 'application/json': { schema } },
  description,
});
