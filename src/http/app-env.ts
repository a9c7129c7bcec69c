// The Hono environment every route shares, and the router factory: validation failures of any
// route become one ValidationError (422, problem+json naming the field) in one place.
import { OpenAPIHono } from '@hono/zod-openapi';
import { ValidationError } from '../errors.ts';

export type AppEnv = {
  Variables: {
    /** The authenticated user, set by requireAuth. */
    userId: string;
    /** How the request authenticated: a Bearer header (API client) or the session cookie (browser). */
    authVia: 'bearer' | 'cookie';
  };
};

interface ZodLikeIssue {
  path: PropertyKey[];
  message: string;
  code?: string;
}

export function validationErrorFrom(target: string, issues: readonly ZodLikeIssue[]): ValidationError {
  const first = issues[0];
  const field = first && first.path.length ? first.path.map(String).join('.') : target;
  return new ValidationError(
    'validation_failed',
    first ? `${field}: ${first.message}` : `invalid ${target}`,
    {
      field,
      details: {
        errors: issues.map((i) => ({
          field: i.path.length ? i.path.map(String).join('.') : target,
          message: i.message,
        })),
      },
    },
  );
}

export function createRouter(): OpenAPIHono<AppEnv> {
  return new OpenAPIHono<AppEnv>({
    defaultHook: (result) => {
      if (!result.success) {
        const target = 'target' in result ? String(result.target) : 'request';
        throw validationErrorFrom(target, (result.error as { issues: ZodLikeIssue[] }).issues);
      }
    },
  });
}
