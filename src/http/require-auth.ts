// Authentication for the API: a Bearer access token (API clients) or the cv_access cookie (the
// browser). Cookies are sent by the browser on its own, so a cookie-authenticated write must also
// prove it comes from our page: the X-CSRF-Token header must equal the cv_csrf cookie.
// An API key (`Bearer cvk_…`, src/auth/api-keys.ts) stands for its user with its scopes: a `read` key
// may only read (GET, HEAD), and no key may manage keys or credentials (`keys: 'refuse'`).
import { createHash, timingSafeEqual } from 'node:crypto';
import type { Context, MiddlewareHandler } from 'hono';
import { getCookie } from 'hono/cookie';
import { type ApiKeys, looksLikeApiKey } from '../auth/api-keys.ts';
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

export interface RequireAuthDeps {
  readonly tokens: Pick<AccessTokens, 'verifyAccessToken'>;
  readonly apiKeys: Pick<ApiKeys, 'verify'>;
}

export interface RequireAuthOptions {
  /** `refuse`: only a login (access token or cookie) will do, never an API key (403 api_key_not_allowed). */
  readonly keys?: 'accept' | 'refuse';
}

export function requireAuth(
  deps: RequireAuthDeps,
  options: RequireAuthOptions = {},
): MiddlewareHandler<AppEnv> {
  const refuseKeys = options.keys === 'refuse';
  return async function requireAuthHandler(c, next) {
    // The app's prefix middleware and a route's own may both run: the first to authenticate decides.
    if (c.var.userId === undefined) await authenticate(c, deps);
    if (c.var.authVia === 'api_key') {
      if (refuseKeys) {
        throw new ForbiddenError('api_key_not_allowed', 'An API key cannot do this; log in as the user');
      }
      if (!SAFE_METHODS.has(c.req.method) && !c.var.apiKeyScopes?.includes('write')) {
        c.header('WWW-Authenticate', 'Bearer realm="chronoverse", error="insufficient_scope", scope="write"');
        throw new ForbiddenError('insufficient_scope', 'This API key may only read (its scopes lack write)');
      }
    }
    if (c.var.authVia === 'cookie' && !SAFE_METHODS.has(c.req.method)) assertCsrf(c);
    await next();
  };
}

async function authenticate(c: Context<AppEnv>, deps: RequireAuthDeps): Promise<void> {
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
      if (looksLikeApiKey(token)) {
        const key = await deps.apiKeys.verify(token);
        // Unknown, revoked and expired keys get one answer, as a refused access token does.
        if (!key) throw new UnauthorizedError('invalid_token', 'The API key is invalid, revoked or expired');
        c.set('userId', key.userId);
        c.set('authVia', 'api_key');
        c.set('apiKeyId', key.id);
        c.set('apiKeyScopes', key.scopes);
        c.set(
          'credentialValid',
          async () => (await deps.apiKeys.verify(token, { fresh: true })) !== undefined,
        );
      } else {
        c.set('userId', (await deps.tokens.verifyAccessToken(token)).userId);
        c.set('authVia', 'bearer');
      }
    } else {
      c.set('userId', (await deps.tokens.verifyAccessToken(cookie ?? '')).userId);
      c.set('authVia', 'cookie');
    }
  } catch (err) {
    if (err instanceof UnauthorizedError) {
      c.header('WWW-Authenticate', `Bearer realm="chronoverse", error="invalid_token"`);
    }
    throw err;
  }
}

/** What a command carries of the request that caused it: the API key that made it, if one did. */
export function requestOrigin(c: Context<AppEnv>): { apiKeyId?: string } {
  return c.var.apiKeyId === undefined ? {} : { apiKeyId: c.var.apiKeyId };
}
