// Short-lived access tokens: JWTs signed with Ed25519 (EdDSA, the only algorithm accepted), checked
// for issuer, audience and expiry, and refused once their session has ended (logout): each names its
// session (`sid`, the refresh-token family of the login). A refused token says only "expired" or
// "invalid", never why.
import { randomUUID } from 'node:crypto';
import { errors, jwtVerify, SignJWT } from 'jose';
import { UnauthorizedError } from '../errors.ts';
import type { JwtKeyPair } from './jwt-keys.ts';

export const TOKEN_ISSUER = 'chronoverse';
export const TOKEN_AUDIENCE = 'chronoverse-api';
const ALGORITHM = 'EdDSA';

export interface IssuedAccessToken {
  readonly token: string;
  /** Seconds until the token expires (the OAuth `expires_in`). */
  readonly expiresIn: number;
}

export interface AccessTokens {
  /** A token of the user in the session `sessionId` (the refresh-token family of the login). */
  issueAccessToken(userId: string, sessionId: string): Promise<IssuedAccessToken>;
  /** The token's user and session, or UnauthorizedError `token_expired` / `invalid_token`. */
  verifyAccessToken(token: string): Promise<{ userId: string; sessionId: string }>;
}

export interface AccessTokenOptions {
  readonly keys: JwtKeyPair;
  readonly ttlSeconds: number;
  readonly now?: () => Date;
  /** Sessions that have ended; without it no token is refused for that reason. */
  readonly endedSessions?: { isEnded(sessionId: string): boolean };
}

/** Tokens already verified, kept until they expire: an API client sends the same token many times. */
const VERIFIED_CACHE_SIZE = 10_000;

export function createAccessTokens(options: AccessTokenOptions): AccessTokens {
  const { keys, ttlSeconds } = options;
  const now = options.now ?? (() => new Date());
  // A token is its own cache key (every byte of it, signature included), so only a token that passed
  // the full check once can hit; its expiry and its session are checked again on every hit, so a hit
  // answers what verifying again would. Verifying an Ed25519 signature is the most expensive step of
  // a small read (a trip through the crypto thread pool).
  const verified = new Map<string, { userId: string; sessionId: string; exp: number }>();
  const ended = (sessionId: string) => options.endedSessions?.isEnded(sessionId) ?? false;
  const invalid = (cause?: unknown) =>
    new UnauthorizedError('invalid_token', 'The access token is invalid', { cause });
  return {
    async issueAccessToken(userId, sessionId) {
      const iat = Math.floor(now().getTime() / 1000);
      const token = await new SignJWT({ sid: sessionId })
        .setProtectedHeader({ alg: ALGORITHM, typ: 'JWT' })
        .setSubject(userId)
        .setIssuer(TOKEN_ISSUER)
        .setAudience(TOKEN_AUDIENCE)
        .setIssuedAt(iat)
        .setExpirationTime(iat + ttlSeconds)
        .setJti(randomUUID())
        .sign(keys.privateKey);
      return { token, expiresIn: ttlSeconds };
    },

    async verifyAccessToken(token) {
      const hit = verified.get(token);
      if (hit) {
        if (ended(hit.sessionId)) {
          verified.delete(token);
          throw invalid();
        }
        if (hit.exp > Math.floor(now().getTime() / 1000))
          return { userId: hit.userId, sessionId: hit.sessionId };
        verified.delete(token);
      }
      let claims: { userId: string; sessionId: string; exp: number };
      try {
        const { payload } = await jwtVerify(token, keys.publicKey, {
          algorithms: [ALGORITHM],
          issuer: TOKEN_ISSUER,
          audience: TOKEN_AUDIENCE,
          requiredClaims: ['sub', 'exp', 'iat', 'jti', 'sid'],
          currentDate: now(),
        });
        if (typeof payload.sub !== 'string' || payload.sub === '') throw new Error('no subject');
        if (typeof payload.sid !== 'string' || payload.sid === '') throw new Error('no session');
        claims = { userId: payload.sub, sessionId: payload.sid, exp: payload.exp as number };
      } catch (err) {
        if (err instanceof errors.JWTExpired) {
          throw new UnauthorizedError('token_expired', 'The access token has expired');
        }
        throw invalid(err);
      }
      if (ended(claims.sessionId)) throw invalid();
      if (verified.size >= VERIFIED_CACHE_SIZE) verified.delete(verified.keys().next().value as string);
      verified.set(token, claims);
      return { userId: claims.userId, sessionId: claims.sessionId };
    },
  };
}
