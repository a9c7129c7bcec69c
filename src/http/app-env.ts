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
  /** For unrecognized_keys: the keys that are not allowed. */
  keys?: string[];
}

/** Where the input came from, in the words of the API (`json` is the request body). */
const TARGET_NAMES: Record<string, string> = {
  json: 'body',
  param: 'path',
  query: 'query',
  header: 'header',
};

function fieldOf(issue: ZodLikeIssue, target: string): string {
  const unknownKey = issue.code === 'unrecognized_keys' && issue.keys?.length ? [issue.keys[0]!] : [];
  const path = [...issue.path.map(String), ...unknownKey];
  return path.length ? path.join('.') : (TARGET_NAMES[target] ?? target);
}

export function validationErrorFrom(target: string, issues: readonly ZodLikeIssue[]): ValidationError {
  const first = issues[0];
  const field = first ? fieldOf(first, target) : (TARGET_NAMES[target] ?? target);
  return new ValidationError(
    'validation_failed',
    first ? `${field}: ${first.message}` : `invalid ${target}`,
    {
      field,
      details: { errors: issues.map((i) => ({ field: fieldOf(i, target), message: i.message })) },
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
