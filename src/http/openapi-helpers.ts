// Small pieces every route definition repeats.
import { z } from '@hono/zod-openapi';

/** Every API route takes a Bearer token or the session cookie. */
export const security: Record<string, string[]>[] = [{ bearerAuth: [] }, { cookieAuth: [] }];

export const json = <T extends z.ZodType>(schema: T, description: string) => ({
  content: { 'application/json': { schema } },
  description,
});

/** The Idempotency-Key header: its bounds are checked by claimIdempotencyKey (422 invalid_idempotency_key). */
export const idempotencyKey = z
  .string()
  .optional()
  .openapi({
    minLength: 1,
    maxLength: 255,
    description: 'The same key with the same request repeats nothing; with another request it is a 409',
  } as never);
