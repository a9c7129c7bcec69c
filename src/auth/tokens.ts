// Short-lived access tokens: JWTs signed with Ed25519 (EdDSA, the only algorithm accepted), checked
// for issuer, audience and expiry. A refused token says only "expired" or "invalid", never why.
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
  issueAccessToken(userId: string): Promise<IssuedAccessToken>;
  /** The token's user, or UnauthorizedError `token_expired` / `invalid_token`. */
  verifyAccessToken(token: string): Promise<{ userId: string }>;
}

export interface AccessTokenOptions {
  readonly keys: JwtKeyPair;
  readonly ttlSeconds: number;
  readonly now?: () => Date;
}

/** Tokens already verified, kept until they expire: an API client sends the same token many times. */
const VERIFIED_CACHE_SIZE = 10_000;

export function createAccessTokens(options: AccessTokenOptions): AccessTokens {
  const { keys, ttlSeconds } = options;
  const now = options.now ?? (() => new Date());
  // A token is its own cache key (every byte of it, signature included), so only a token that passed
  // the full check once can hit; its expiry is checked again on every hit, the way jose checks it. An
  // access token cannot be revoked before it expires, so a hit answers what verifying again would.
  // Verifying an Ed25519 signature is the most expensive step of a small read (a trip through the
  // crypto thread pool).
  const verified = new Map<string, { userId: string; exp: number }>();
  return {
    async issueAccessToken(userId) {
      const iat = Math.floor(now().getTime() / 1000);
      const token = await new SignJWT({})
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
        if (hit.exp > Math.floor(now().getTime() / 1000)) return { userId: hit.userId };
        verified.delete(token);
      }
      try {
        const { payload } = await jwtVerify(token, keys.publicKey, {
          algorithms: [ALGORITHM],
          issuer: TOKEN_ISSUER,
          audience: TOKEN_AUDIENCE,
          requiredClaims: ['sub', 'exp', 'iat', 'jti'],
          currentDate: now(),
        });
        if (typeof payload.sub !== 'string' || payload.sub === '') throw new Error('no subject');
        if (verified.size >= VERIFIED_CACHE_SIZE) verified.delete(verified.keys().next().value as string);
        verified.set(token, { userId: payload.sub, exp: payload.exp as number });
        return { userId: payload.sub };
      } catch (err) {
        if (err instanceof errors.JWTExpired) {
          throw new UnauthorizedError('token_expired', 'The access token has expired');
        }
        throw new UnauthorizedError('invalid_token', 'The access token is invalid', { cause: err });
      }
    },
  };
}
