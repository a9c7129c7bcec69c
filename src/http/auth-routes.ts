// /auth: register, login, refresh and logout, plus /users/me (user-me-routes.ts). Logins answer with
// a token pair in the body (API clients) and as cookies (the browser), from one code path.
import { randomUUID } from 'node:crypto';
import { getConnInfo } from '@hono/node-server/conninfo';
import { createRoute, type OpenAPIHono } from '@hono/zod-openapi';
import type { Context } from 'hono';
import { getCookie } from 'hono/cookie';
import type { CommandHandler } from '../actors/command-handler.ts';
import { userDecider } from '../actors/user-decider.ts';
import type { AuthServices } from '../auth/auth-services.ts';
import { findCredentials, insertCredentials } from '../auth/credentials.ts';
import type { IssuedRefreshToken } from '../auth/refresh-tokens.ts';
import type { Config } from '../config/config.ts';
import { UnauthorizedError } from '../errors.ts';
import type { Db } from '../queries/db.ts';
import { type AppEnv, createRouter } from './app-env.ts';
import {
  ACCESS_COOKIE,
  CSRF_HEADER,
  clearSessionCookies,
  REFRESH_COOKIE,
  setSessionCookies,
} from './auth-cookies.ts';
import {
  json,
  LoginBody,
  problem,
  RefreshBody,
  RegisterBody,
  RegisteredUser,
  TokenPair,
} from './auth-schemas.ts';
import { assertCsrf, BEARER, csrfMatches } from './require-auth.ts';

export interface AuthRouteDeps {
  readonly auth: AuthServices;
  readonly commands: CommandHandler;
  readonly db: Db;
  readonly config: Config;
  /** The clock of the cookies' lifetimes; the same one the auth services use. */
  readonly now?: () => Date;
}

const tags = ['auth'];
const body = <T extends Parameters<typeof json>[0]>(schema: T, required: boolean) => ({
  content: { 'application/json': { schema } },
  required,
});

const registerRoute = createRoute({
  method: 'post',
  path: '/auth/register',
  tags,
  summary: 'Create an account',
  request: { body: body(RegisterBody, true) },
  responses: {
    201: json(RegisteredUser, 'The account was created'),
    400: problem('Malformed JSON'),
    409: problem('The email is taken (email_taken)'),
    422: problem('Invalid email or password'),
    429: {
      ...problem('Too many sign-ups from this address in the last hour (too_many_signups)'),
      headers: {
        'Retry-After': {
          description: 'Seconds until the address may sign up again',
          schema: { type: 'integer' },
        },
      },
    },
  },
});

const loginRoute = createRoute({
  method: 'post',
  path: '/auth/login',
  tags,
  summary: 'Log in: a token pair in the body and the session cookies',
  request: { body: body(LoginBody, true) },
  responses: {
    200: json(TokenPair, 'Logged in; also sets cv_access, cv_refresh and cv_csrf'),
    400: problem('Malformed JSON'),
    401: problem('Wrong email or password (invalid_credentials)'),
    422: problem('Invalid input'),
    429: {
      ...problem(
        'Too many failed logins for this account from this address, or from this address across accounts (too_many_login_attempts, retry_after_seconds); the owner from another address is not slowed',
      ),
      headers: {
        'Retry-After': { description: 'Seconds until a new attempt is allowed', schema: { type: 'integer' } },
      },
    },
  },
});

const refreshRoute = createRoute({
  method: 'post',
  path: '/auth/refresh',
  tags,
  summary: 'Exchange a refresh token (body or cv_refresh cookie) for a new pair',
  request: { body: body(RefreshBody, false) },
  responses: {
    200: json(TokenPair, 'A new pair; the old refresh token is now used'),
    401: problem('Unknown, expired or reused refresh token (reuse ends the session)'),
    403: problem(`Cookie refresh without a matching ${CSRF_HEADER}`),
  },
});

const logoutRoute = createRoute({
  method: 'post',
  path: '/auth/logout',
  tags,
  summary:
    'End the session: its refresh tokens and its access tokens are refused from now on, and the cookies are cleared',
  description:
    'The session is the one of the refresh token (body or cv_refresh cookie) and of the access token (Authorization: Bearer, or the cv_access cookie with X-CSRF-Token), whichever are sent. Every access token of an ended session answers 401 invalid_token until it would have expired.',
  request: { body: body(RefreshBody, false) },
  responses: {
    204: { description: 'Logged out (also when the tokens were unknown, expired or already ended)' },
    403: problem(`Cookie logout without a matching ${CSRF_HEADER}`),
  },
});

/** The client's address for rate limiting; app.request() in tests has no socket. */
function clientAddress(c: Context): string {
  try {
    return getConnInfo(c).remote.address ?? 'unknown';
  } catch {
    return 'unknown';
  }
}

export function authRoutes(deps: AuthRouteDeps): OpenAPIHono<AppEnv> {
  const { auth, db, config } = deps;
  const now = deps.now ?? (() => new Date());
  const secure = config.CV_PUBLIC_URL?.startsWith('https:') ?? false;
  const app = createRouter();
  app.openAPIRegistry.registerComponent('securitySchemes', 'bearerAuth', {
    type: 'http',
    scheme: 'bearer',
    bearerFormat: 'JWT',
  });
  app.openAPIRegistry.registerComponent('securitySchemes', 'cookieAuth', {
    type: 'apiKey',
    in: 'cookie',
    name: 'cv_access',
    description: `Browser session; writes also need ${CSRF_HEADER} equal to the cv_csrf cookie`,
  });

  /** The answer of login and refresh: the pair in the body and as cookies. */
  async function session(c: Context<AppEnv>, refresh: IssuedRefreshToken) {
    const access = await auth.tokens.issueAccessToken(refresh.userId, refresh.familyId);
    setSessionCookies(c, {
      accessToken: access.token,
      accessTtlSeconds: access.expiresIn,
      refreshToken: refresh.token,
      refreshExpiresAt: refresh.expiresAt,
      secure,
      now: now(),
    });
    return {
      access_token: access.token,
      token_type: 'Bearer' as const,
      expires_in: access.expiresIn,
      refresh_token: refresh.token,
    };
  }

  /** The refresh token from the body, or from the cookie, which (sent by the browser on its own) needs the CSRF header. */
  function presentedRefreshToken(c: Context<AppEnv>, fromBody: string | undefined): string | undefined {
    if (fromBody) return fromBody;
    const cookie = getCookie(c, REFRESH_COOKIE);
    if (cookie) assertCsrf(c);
    return cookie;
  }

  app.openapi(registerRoute, async (c) => {
    const { email, password } = c.req.valid('json');
    // Counted before anything else, so a refused sign-up (email taken) costs an attempt too.
    auth.signupLimiter.attempt(clientAddress(c));
    // Hashed before the transaction, so no connection is held during ~50 ms of hashing.
    const passwordHash = await auth.passwords.hash(password);
    const userId = randomUUID();
    // The credentials row commits only if the user's RegisterUser event was appended: no account
    // without a user. (A crash between append and commit leaves a user nobody can log in as.)
    await insertCredentials(db, { userId, email, passwordHash }, () =>
      deps.commands.handle(userDecider, {
        commandId: randomUUID(),
        userId,
        aggregateId: userId,
        command: { type: 'RegisterUser', data: { user_id: userId, email } },
      }),
    );
    return c.json({ id: userId, email }, 201);
  });

  app.openapi(loginRoute, async (c) => {
    const { email, password } = c.req.valid('json');
    const address = clientAddress(c);
    // Counted as a failure from here until the password is right (throttled: a 429 with Retry-After).
    auth.rateLimiter.attempt(email, address);
    const account = await findCredentials(db, email);
    // An unknown email costs as much as a wrong password, so timing does not reveal accounts.
    const ok = account
      ? await auth.passwords.verify(password, account.password_hash)
      : await auth.passwords.verifyUnknown(password);
    if (!account || !ok) {
      throw new UnauthorizedError('invalid_credentials', 'The email or the password is wrong');
    }
    auth.rateLimiter.succeeded(email, address);
    return c.json(await session(c, await auth.refreshTokens.issue(account.user_id)), 200);
  });

  app.openapi(refreshRoute, async (c) => {
    const token = presentedRefreshToken(c, c.req.valid('json').refresh_token);
    if (!token)
      throw new UnauthorizedError('authentication_required', 'Send refresh_token or the cv_refresh cookie');
    return c.json(await session(c, await auth.refreshTokens.rotate(token)), 200);
  });

  /**
   * The session of the access token sent with a logout, if it is valid: from the Authorization
   * header, or from the cv_access cookie when the CSRF header matches (a cookie alone, which the
   * browser sends on its own, does not end a session).
   */
  async function presentedSession(c: Context<AppEnv>): Promise<string | undefined> {
    const authorization = c.req.header('Authorization');
    let token = authorization === undefined ? undefined : BEARER.exec(authorization)?.[1];
    if (authorization === undefined) {
      const cookie = getCookie(c, ACCESS_COOKIE);
      if (cookie && csrfMatches(c)) token = cookie;
    }
    if (!token) return undefined;
    try {
      return (await auth.tokens.verifyAccessToken(token)).sessionId;
    } catch (err) {
      if (err instanceof UnauthorizedError) return undefined;
      throw err;
    }
  }

  app.openapi(logoutRoute, async (c) => {
    const token = presentedRefreshToken(c, c.req.valid('json').refresh_token);
    // Revoking a family ends its session: its access tokens are refused by every API process.
    const ended = token ? await auth.refreshTokens.revokeFamilyOf(token) : undefined;
    const session = await presentedSession(c);
    if (session && session !== ended) await auth.refreshTokens.revokeFamily(session);
    clearSessionCookies(c, secure);
    return c.body(null, 204);
  });

  return app;
}
