// What every request body must be before a route reads it: JSON, at most MAX_BODY_BYTES, and UTF-8
// (RFC 8259): bytes that are not would otherwise be read as U+FFFD and stored as such. Checked once for
// the whole API, so each route's document can say 400, 413 and 415 because every route answers so.
import type { MiddlewareHandler } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { BadRequestError, PayloadTooLargeError, UnsupportedMediaTypeError } from '../errors.ts';

/** A workflow with a large environment fits many times over; a runaway client does not. */
export const MAX_BODY_BYTES = 1024 * 1024;

const JSON_MEDIA = /^application\/([\w.-]+\+)?json\s*(;|$)/i;

/** HTTP/1.1 says a request has a body when it says how long it is or that it is chunked. */
function hasBody(request: Request): boolean {
  const length = request.headers.get('content-length');
  return (length !== null && length !== '0') || request.headers.has('transfer-encoding');
}

export function requestLimits(): MiddlewareHandler[] {
  const limit = bodyLimit({
    maxSize: MAX_BODY_BYTES,
    onError: () => {
      throw new PayloadTooLargeError('body_too_large', `A request body is at most ${MAX_BODY_BYTES} bytes`);
    },
  });
  const jsonOnly: MiddlewareHandler = async function jsonBodiesOnly(c, next) {
    if (c.req.method !== 'GET' && c.req.method !== 'HEAD' && hasBody(c.req.raw)) {
      const type = c.req.header('content-type') ?? '';
      if (!JSON_MEDIA.test(type)) {
        throw new UnsupportedMediaTypeError(
          'unsupported_media_type',
          `A request body is JSON (Content-Type: application/json), not ${type || 'untyped'}`,
        );
      }
    }
    await next();
  };
  const utf8Only: MiddlewareHandler = async function utf8BodiesOnly(c, next) {
    if (c.req.method !== 'GET' && c.req.method !== 'HEAD' && hasBody(c.req.raw)) {
      // Read once here (within the limit above); the route's JSON parser reuses Hono's cached copy.
      const bytes = new Uint8Array(await c.req.arrayBuffer());
      try {
        utf8.decode(bytes);
      } catch {
        throw new BadRequestError(
          'body_not_utf8',
          'A request body is UTF-8 text; this one has bytes that are not',
        );
      }
    }
    await next();
  };
  return [jsonOnly, limit, utf8Only];
}

const utf8 = new TextDecoder('utf-8', { fatal: true });
