// The Hono environment every route shares, and the router factory: validation failures of any
// route become one ValidationError (422, problem+json naming the field) in one place, and so does a
// NUL character anywhere in a validated input (PostgreSQL refuses NUL in text and jsonb: no input
// may carry one to a store, directly or through an event a projection writes).
import { OpenAPIHono } from '@hono/zod-openapi';
import type { ApiKeyScope } from '../auth/api-keys.ts';
import { ValidationError } from '../errors.ts';
import { hasNul } from '../queries/paging.ts';

export type AppEnv = {
  Variables: {
    /** The authenticated user, set by requireAuth. */
    userId: string;
    /**
     * How the request authenticated: a Bearer access token (API client), an API key (Bearer cvk_…) or
     * the session cookie (browser).
     */
    authVia: 'bearer' | 'api_key' | 'cookie';
    /** The API key the request was made with (authVia api_key): named in the events it causes. */
    apiKeyId?: string;
    /** That key's scopes. */
    apiKeyScopes?: readonly ApiKeyScope[];
    /**
     * Whether the credential the request came with is still good (set for API keys): an open event
     * stream asks every second and ends when it is not (a key revoked or expired meanwhile).
     */
    credentialValid?: () => Promise<boolean>;
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

/** The path of the first string (value or key) holding a NUL in a parsed input, if any. */
export function nulPath(value: unknown, path: PropertyKey[] = []): PropertyKey[] | undefined {
  if (typeof value === 'string') return hasNul(value) ? path : undefined;
  if (Array.isArray(value)) {
    for (const [i, item] of value.entries()) {
      const found = nulPath(item, [...path, i]);
      if (found) return found;
    }
    return undefined;
  }
  if (value !== null && typeof value === 'object') {
    for (const [key, item] of Object.entries(value)) {
      if (hasNul(key)) return [...path, key.replaceAll('\u0000', '\\0')];
      const found = nulPath(item, [...path, key]);
      if (found) return found;
    }
  }
  return undefined;
}

export function createRouter(): OpenAPIHono<AppEnv> {
  return new OpenAPIHono<AppEnv>({
    defaultHook: (result) => {
      const target = 'target' in result ? String(result.target) : 'request';
      if (!result.success) {
        throw validationErrorFrom(target, (result.error as { issues: ZodLikeIssue[] }).issues);
      }
      const at = nulPath(result.data);
      if (at) {
        const field = fieldOf({ path: at, message: '' }, target);
        throw new ValidationError('nul_character', `${field}: NUL characters (U+0000) are not accepted`, {
          field,
        });
      }
    },
  });
}
