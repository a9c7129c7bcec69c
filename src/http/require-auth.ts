// Authentication for the API: a Bearer access token (API clients) or the cv_access cookie (the
// browser). Cookies are sent by the browser on its own, so a cookie-authenticated write must also
// prove it comes from our page: the X-CSRF-Token header must equal the cv_csrf cookie.
import { createHash, timingSafeEqual } from 'node:crypto';
import type { Context, MiddlewareHandler } from 'hono';
import { getCookie } from 'hono/cookie';
import type { AccessTokens } from '../auth/tokens.ts';
import { ForbiddenError, UnauthorizedError } from '../errors.ts';
import type { AppEnv } from './app-env.ts';
import { ACCESS_COOKIE, CSRF_COOKIE, CSRF_HEADER } from './auth-cookies.ts';

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);
/** `Bearer <token>`: the token in group 1. */
export const BEARER = /^Bearer[ ]+([A-Za-z0-9._~+/-]+=*)[ ]*$/i;

/** Whether the CSRF header equals the CSRF cookie (both present). */
export function csrfMatches(c: Context): boolean {
  const header = c.req.header(CSRF_HEADER) ?? '';
  const cookie = getCookie(c, CSRF_COOKIE) ?? '';
  // Digests have equal lengths, so the comparison time says nothing about either value.
  const digest = (v: string) => createHash('sha256').update(v).digest();
  return Boolean(header && cookie && timingSafeEqual(digest(header), digest(cookie)));
}

/** Throws ForbiddenError `csrf_token_mismatch` unless the CSRF header equals the CSRF cookie. */
export function assertCsrf(c: Context): void {
  if (!csrfMatches(c)) {
    throw new ForbiddenError('csrf_token_mismatch', `${CSRF_HEADER} must equal the ${CSRF_COOKIE} cookie`);
  }
}

export function requireAuth(tokens: Pick<AccessTokens, 'verifyAccessToken'>): MiddlewareHandler<AppEnv> {
  return async function requireAuthHandler(c, next) {
    const authorization = c.req.header('Authorization');
    const cookie = getCookie(c, ACCESS_COOKIE);
    if (authorization === undefined && !cookie) {
      c.header('WWW-Authenticate', 'Bearer realm="chronoverse"');
      throw new UnauthorizedError('authentication_required', 'Send a Bearer token or log in');
    }
    try {
      if (authorization !== undefined) {
        // Bearer first: a header is never sent by the browser on its own, so it needs no CSRF check.
        const token = BEARER.exec(authorization)?.[1];
        if (!token)
          throw new UnauthorizedError('invalid_token', 'The Authorization header must be "Bearer <token>"');
        c.set('userId', (await tokens.verifyAccessToken(token)).userId);
        c.set('authVia', 'bearer');
      } else {
        c.set('userId', (await tokens.verifyAccessToken(cookie ?? '')).userId);
        c.set('authVia', 'cookie');
      }
    } catch (err) {
      if (err instanceof UnauthorizedError) {
        c.header('WWW-Authenticate', `Bearer realm="chronoverse", error="invalid_token"`);
      }
      throw err;
    }
    if (c.var.authVia === 'cookie' && !SAFE_METHODS.has(c.req.method)) assertCsrf(c);
    await next();
  };
}
