// Small pieces every route definition repeats.
import type { z } from '@hono/zod-openapi';

/** Every API route takes a Bearer token or the session cookie. */
export const security: Record<string, string[]>[] = [{ bearerAuth: [] }, { cookieAuth: [] }];

export const json = <T extends z.ZodType>(schema: T, description: string) => ({
  content: { 'application/json': { schema } },
  description,
});
