// Errors as application/problem+json (RFC 9457) with a stable `code`. The one place where an error
// becomes an HTTP response; an unexpected error is a 500 that never shows its internal message.
import type { Context } from 'hono';
import { HTTPException } from 'hono/http-exception';
import { TrieRouter } from 'hono/router/trie-router';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import { AppError, TooManyRequestsError, UnavailableError, ValidationError } from '../errors.ts';
import { storeOutage } from '../infra/store-outage.ts';
import type { Logger } from '../telemetry/logger.ts';

export interface Problem {
  type: string;
  title: string;
  status: number;
  code: string;
  detail: string;
  field?: string;
  [extra: string]: unknown;
}

export function problemResponse(c: Context, problem: Problem): Response {
  return c.body(JSON.stringify(problem), problem.status as ContentfulStatusCode, {
    'content-type': 'application/problem+json',
  });
}

export function onError(log: Logger) {
  return function handleError(thrown: Error, c: Context): Response {
    // An outage of a store is an answer the client can act on (try again), never a 500.
    const err = storeOutage(thrown) ?? thrown;
    if (err instanceof UnavailableError) {
      c.header('Retry-After', String(err.retryAfterSeconds));
      log.warn('request met an outage', {
        code: err.code,
        path: c.req.path,
        method: c.req.method,
        error: thrown,
      });
    }
    if (err instanceof TooManyRequestsError) c.header('Retry-After', String(err.retryAfterSeconds));
    if (err instanceof AppError) {
      return problemResponse(c, {
        type: `https://chronoverse.dev/problems/${err.code}`,
        title: err.name,
        status: err.status,
        code: err.code,
        detail: err.message,
        ...(err instanceof ValidationError && err.field ? { field: err.field } : {}),
        ...(err.details ?? {}),
      });
    }
    if (err instanceof HTTPException && err.status < 500) {
      return problemResponse(c, {
        type: 'about:blank',
        title: 'HTTPException',
        status: err.status,
        code: 'bad_request',
        detail: err.message || 'bad request',
      });
    }
    log.error('unhandled error', { error: err, path: c.req.path, method: c.req.method });
    return problemResponse(c, {
      type: 'about:blank',
      title: 'Internal Server Error',
      status: 500,
      code: 'internal_error',
      detail: 'An unexpected error occurred; it has been logged.',
    });
  };
}

/** A route as the app lists it (`app.routes`): middleware is registered for the method ALL. */
export interface RouteEntry {
  readonly method: string;
  readonly path: string;
}

/**
 * The methods each path has, from the app's own routes and matched by Hono's own router (so `:id`
 * and wildcards mean what they mean for dispatch). GET implies HEAD: Hono answers HEAD with GET.
 */
export function allowedMethods(routes: readonly RouteEntry[]): (path: string) => string[] {
  const router = new TrieRouter<string>();
  const seen = new Set<string>();
  for (const { method, path } of routes) {
    const key = `${method} ${path}`;
    if (method === 'ALL' || seen.has(key)) continue;
    seen.add(key);
    router.add('ALL', path, method);
  }
  return (path) => {
    const methods = new Set(router.match('GET', path)[0].map(([method]) => method));
    if (methods.has('GET')) methods.add('HEAD');
    return [...methods].sort();
  };
}

/**
 * The answer when no route takes the request: 405 with `Allow` when the path has routes for other
 * methods, 404 `route_not_found` when it has none. `routes` is read on the first such request, once
 * every route is mounted.
 */
export function notFound(routes: () => readonly RouteEntry[] = () => []) {
  let allowed: ((path: string) => string[]) | undefined;
  return function routeNotFound(c: Context): Response {
    allowed ??= allowedMethods(routes());
    const methods = allowed(c.req.path);
    if (methods.length > 0) {
      c.header('Allow', methods.join(', '));
      return problemResponse(c, {
        type: 'about:blank',
        title: 'Method Not Allowed',
        status: 405,
        code: 'method_not_allowed',
        detail: `${c.req.path} does not take ${c.req.method}; it takes ${methods.join(', ')}`,
      });
    }
    return problemResponse(c, {
      type: 'about:blank',
      title: 'Not Found',
      status: 404,
      code: 'route_not_found',
      detail: `No route for ${c.req.method} ${c.req.path}`,
    });
  };
}
