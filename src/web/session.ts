// Who is looking at a page: the user of the browser session's access cookie, the same cookie the JSON
// API reads (set by POST /auth/login and /auth/refresh). Pages only read; every write of the
// dashboard goes through the JSON API with the CSRF header, from the client script.
import type { Context } from 'hono';
import { getCookie } from 'hono/cookie';
import type { AccessTokens } from '../auth/tokens.ts';
import { UnauthorizedError } from '../errors.ts';

/** The cookie names of src/http/auth-cookies.ts (the web room does not import the API's). */
export const ACCESS_COOKIE = 'cv_access';
export const CSRF_COOKIE = 'cv_csrf';

export type PageSession =
  /** A valid access token: the page is rendered for this user. */
  | { readonly kind: 'user'; readonly userId: string }
  /** No valid access token, but a CSRF cookie that lives as long as the refresh token: try refreshing. */
  | { readonly kind: 'refreshable' }
  /** Nothing to go on: log in. */
  | { readonly kind: 'none' };

export async function pageSession(
  c: Context,
  tokens: Pick<AccessTokens, 'verifyAccessToken'>,
): Promise<PageSession> {
  const access = getCookie(c, ACCESS_COOKIE);
  if (access) {
    try {
      return { kind: 'user', userId: (await tokens.verifyAccessToken(access)).userId };
    } catch (err) {
      if (!(err instanceof UnauthorizedError)) throw err;
    }
  }
  return getCookie(c, CSRF_COOKIE) ? { kind: 'refreshable' } : { kind: 'none' };
}

/** A path of this site to return to after logging in; anything else (another origin, `//host`) is `/`. */
export function safeNext(next: string | undefined): string {
  if (!next?.startsWith('/') || next.startsWith('//') || next.startsWith('/\\')) return '/';
  return next;
}
