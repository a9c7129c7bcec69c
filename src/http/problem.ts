// Errors as application/problem+json (RFC 9457) with a stable `code`. The one place where an error
// becomes an HTTP response; an unexpected error is a 500 that never shows its internal message.
import type { Context } from 'hono';
import { HTTPException } from 'hono/http-exception';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import { AppError, UnavailableError, ValidationError } from '../errors.ts';
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

export function notFound(c: Context): Response {
  return problemResponse(c, {
    type: 'about:blank',
    title: 'Not Found',
    status: 404,
    code: 'route_not_found',
    detail: `No route for ${c.req.method} ${c.req.path}`,
  });
}
