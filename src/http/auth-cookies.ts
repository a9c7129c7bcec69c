// The browser session as cookies: the access token and the refresh token (HttpOnly, so scripts cannot
// steal them) and a readable CSRF token that scripts echo in X-CSRF-Token (double submit).
// SameSite=Strict everywhere; Secure when the public URL is https.
import { randomBytes } from 'node:crypto';
import type { Context } from 'hono';
import { deleteCookie, setCookie } from 'hono/cookie';

export const ACCESS_COOKIE = 'cv_access';
export const REFRESH_COOKIE = 'cv_refresh';
export const CSRF_COOKIE = 'cv_csrf';
export const CSRF_HEADER = 'X-CSRF-Token';
/** The refresh cookie goes only to the auth routes, not with every API call. */
const REFRESH_PATH = '/auth';

export interface SessionCookies {
  readonly accessToken: string;
  readonly accessTtlSeconds: number;
  readonly refreshToken: string;
  readonly refreshExpiresAt: Date;
  readonly secure: boolean;
  readonly now: Date;
}

export function setSessionCookies(c: Context, s: SessionCookies): void {
  const refreshMaxAge = Math.max(0, Math.floor((s.refreshExpiresAt.getTime() - s.now.getTime()) / 1000));
  const common = { sameSite: 'Strict', secure: s.secure } as const;
  setCookie(c, ACCESS_COOKIE, s.accessToken, {
    ...common,
    httpOnly: true,
    path: '/',
    maxAge: s.accessTtlSeconds,
  });
  setCookie(c, REFRESH_COOKIE, s.refreshToken, {
    ...common,
    httpOnly: true,
    path: REFRESH_PATH,
    maxAge: refreshMaxAge,
  });
  // A fresh CSRF token with every session change; it lives as long as the session can be refreshed.
  setCookie(c, CSRF_COOKIE, randomBytes(32).toString('base64url'), {
    ...common,
    httpOnly: false,
    path: '/',
    maxAge: refreshMaxAge,
  });
}

export function clearSessionCookies(c: Context, secure: boolean): void {
  const common = { sameSite: 'Strict', secure } as const;
  deleteCookie(c, ACCESS_COOKIE, { ...common, path: '/' });
  deleteCookie(c, REFRESH_COOKIE, { ...common, path: REFRESH_PATH });
  deleteCookie(c, CSRF_COOKIE, { ...common, path: '/' });
}
