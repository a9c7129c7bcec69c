import { createSecretKey, generateKeyPairSync } from 'node:crypto';
import { decodeJwt, SignJWT } from 'jose';
import { describe, expect, it } from 'vitest';
import { UnauthorizedError } from '../errors.ts';
import type { JwtKeyPair } from './jwt-keys.ts';
import { createAccessTokens, TOKEN_AUDIENCE, TOKEN_ISSUER } from './tokens.ts';

const newKeys = (): JwtKeyPair => generateKeyPairSync('ed25519');
const keys = newKeys();
const start = new Date('2026-11-27T10:00:00Z');
const b64url = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');

async function refusal(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
  } catch (err) {
    expect(err).toBeInstanceOf(UnauthorizedError);
    return (err as UnauthorizedError).code;
  }
  throw new Error('the token was accepted');
}

describe('access tokens', () => {
  const tokens = createAccessTokens({ keys, ttlSeconds: 900, now: () => start });

  it('carry sub, iat, exp, iss, aud and a unique jti, and verify back to the user', async () => {
    const { token, expiresIn } = await tokens.issueAccessToken('user-1', 'session-1');
    expect(expiresIn).toBe(900);
    const claims = decodeJwt(token);
    const iat = start.getTime() / 1000;
    expect(claims).toMatchObject({
      sub: 'user-1',
      iss: TOKEN_ISSUER,
      aud: TOKEN_AUDIENCE,
      iat,
      exp: iat + 900,
    });
    expect(claims.jti).toMatch(/^[0-9a-f-]{36}$/);
    expect(decodeJwt((await tokens.issueAccessToken('user-1', 'session-1')).token).jti).not.toBe(claims.jti);
    expect(claims.sid).toBe('session-1');
    expect(await tokens.verifyAccessToken(token)).toEqual({ userId: 'user-1', sessionId: 'session-1' });
  });

  it('refuse a token of an ended session, also once it is in the cache of verified tokens', async () => {
    const ended = new Set<string>();
    const watched = createAccessTokens({
      keys,
      ttlSeconds: 900,
      now: () => start,
      endedSessions: { isEnded: (sid) => ended.has(sid) },
    });
    const { token } = await watched.issueAccessToken('user-1', 'session-1');
    const other = await watched.issueAccessToken('user-1', 'session-2');
    expect(await watched.verifyAccessToken(token)).toEqual({ userId: 'user-1', sessionId: 'session-1' });
    expect(await watched.verifyAccessToken(token)).toEqual({ userId: 'user-1', sessionId: 'session-1' });
    ended.add('session-1');
    expect(await refusal(watched.verifyAccessToken(token))).toBe('invalid_token');
    expect(await refusal(watched.verifyAccessToken(token))).toBe('invalid_token');
    expect((await watched.verifyAccessToken(other.token)).sessionId).toBe('session-2');
    // A token issued by another process, never cached here, is refused as well.
    const fresh = await tokens.issueAccessToken('user-1', 'session-1');
    expect(await refusal(watched.verifyAccessToken(fresh.token))).toBe('invalid_token');
  });

  it('refuse a token without a session', async () => {
    const token = await new SignJWT({})
      .setProtectedHeader({ alg: 'EdDSA' })
      .setSubject('user-1')
      .setIssuer(TOKEN_ISSUER)
      .setAudience(TOKEN_AUDIENCE)
      .setIssuedAt(start)
      .setExpirationTime(new Date(start.getTime() + 60_000))
      .setJti('j')
      .sign(keys.privateKey);
    expect(await refusal(tokens.verifyAccessToken(token))).toBe('invalid_token');
  });

  it('refuse alg none', async () => {
    const { token } = await tokens.issueAccessToken('user-1', 'session-1');
    const payload = token.split('.')[1];
    const none = `${b64url({ alg: 'none', typ: 'JWT' })}.${payload}.`;
    expect(await refusal(tokens.verifyAccessToken(none))).toBe('invalid_token');
  });

  it('refuse a token signed by another key', async () => {
    const other = createAccessTokens({ keys: newKeys(), ttlSeconds: 900, now: () => start });
    const { token } = await other.issueAccessToken('user-1', 'session-1');
    expect(await refusal(tokens.verifyAccessToken(token))).toBe('invalid_token');
  });

  it('refuse an HMAC token keyed with the public key (algorithm confusion)', async () => {
    const secret = createSecretKey(keys.publicKey.export({ type: 'spki', format: 'der' }));
    const token = await new SignJWT({ sub: 'user-1' })
      .setProtectedHeader({ alg: 'HS256' })
      .setIssuer(TOKEN_ISSUER)
      .setAudience(TOKEN_AUDIENCE)
      .setIssuedAt()
      .setExpirationTime('1h')
      .setJti('x')
      .sign(secret);
    expect(await refusal(tokens.verifyAccessToken(token))).toBe('invalid_token');
  });

  it('refuse a changed payload', async () => {
    const { token } = await tokens.issueAccessToken('user-1', 'session-1');
    const [header, , signature] = token.split('.');
    const changed = b64url({ ...decodeJwt(token), sub: 'user-2' });
    expect(await refusal(tokens.verifyAccessToken(`${header}.${changed}.${signature}`))).toBe(
      'invalid_token',
    );
  });

  it('refuse an expired token as token_expired, and accept it until then', async () => {
    let now = start;
    const clocked = createAccessTokens({ keys, ttlSeconds: 60, now: () => now });
    const { token } = await clocked.issueAccessToken('user-1', 'session-1');
    now = new Date(start.getTime() + 59_000);
    expect(await clocked.verifyAccessToken(token)).toEqual({ userId: 'user-1', sessionId: 'session-1' });
    now = new Date(start.getTime() + 61_000);
    expect(await refusal(clocked.verifyAccessToken(token))).toBe('token_expired');
  });

  it('refuse a wrong audience or issuer and plain garbage', async () => {
    const signed = (aud: string, iss: string) =>
      new SignJWT({ sid: 's' })
        .setProtectedHeader({ alg: 'EdDSA' })
        .setSubject('user-1')
        .setIssuer(iss)
        .setAudience(aud)
        .setIssuedAt(start)
        .setExpirationTime(new Date(start.getTime() + 60_000))
        .setJti('j')
        .sign(keys.privateKey);
    expect(await refusal(tokens.verifyAccessToken(await signed('other-api', TOKEN_ISSUER)))).toBe(
      'invalid_token',
    );
    expect(await refusal(tokens.verifyAccessToken(await signed(TOKEN_AUDIENCE, 'someone')))).toBe(
      'invalid_token',
    );
    expect(await refusal(tokens.verifyAccessToken('not.a.jwt'))).toBe('invalid_token');
    expect(await refusal(tokens.verifyAccessToken(''))).toBe('invalid_token');
  });
});
