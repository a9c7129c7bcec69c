import { describe, expect, it } from 'vitest';
import { TooManyRequestsError } from '../errors.ts';
import { LoginRateLimiter } from './login-rate-limiter.ts';

const SEC = 1000;
const MIN = 60_000;

function clock(startMs = Date.UTC(2026, 10, 27)) {
  let t = startMs;
  return { now: () => new Date(t), advance: (ms: number) => (t += ms) };
}

function refusal(fn: () => void): TooManyRequestsError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(TooManyRequestsError);
    return err as TooManyRequestsError;
  }
  throw new Error('the attempt was allowed');
}

const OWNER = 'owner@example.com';
const ATTACKER = '203.0.113.9';
const HOME = '198.51.100.7';

describe('login rate limiter', () => {
  it('lets 3 failures of one account from one address through, then delays each attempt, doubling', () => {
    const c = clock();
    const limiter = new LoginRateLimiter({}, c.now);
    for (let i = 0; i < 3; i++) limiter.attempt(OWNER, ATTACKER);
    const first = refusal(() => limiter.attempt(OWNER, ATTACKER));
    expect(first).toMatchObject({ code: 'too_many_login_attempts', status: 429, retryAfterSeconds: 1 });
    expect(first.details).toEqual({ retry_after_seconds: 1 });
    c.advance(SEC);
    limiter.attempt(OWNER, ATTACKER);
    expect(refusal(() => limiter.attempt(OWNER, ATTACKER)).retryAfterSeconds).toBe(2);
    c.advance(2 * SEC);
    limiter.attempt(OWNER, ATTACKER);
    expect(refusal(() => limiter.attempt(OWNER, ATTACKER)).retryAfterSeconds).toBe(4);
    // A refused attempt is not counted: the delay does not grow while the guesser waits.
    c.advance(3 * SEC);
    expect(refusal(() => limiter.attempt(OWNER, ATTACKER)).retryAfterSeconds).toBe(1);
  });

  it('caps the delay at 15 minutes and forgets a pair an hour after its last failure', () => {
    const c = clock();
    const limiter = new LoginRateLimiter({}, c.now);
    expect([0, 2, 3, 4, 12, 13, 40, 1000].map((n) => limiter.delayAfter(n))).toEqual([
      0,
      0,
      SEC,
      2 * SEC,
      512 * SEC,
      15 * MIN,
      15 * MIN,
      15 * MIN,
    ]);
    for (let i = 0; i < 20; i++) {
      c.advance(15 * MIN);
      limiter.attempt(OWNER, ATTACKER);
    }
    expect(refusal(() => limiter.attempt(OWNER, ATTACKER)).retryAfterSeconds).toBe(900);
    c.advance(60 * MIN);
    for (let i = 0; i < 3; i++) limiter.attempt(OWNER, ATTACKER);
  });

  it('never slows the owner at their own address, however many failures come from another', () => {
    const c = clock();
    const limiter = new LoginRateLimiter({}, c.now);
    for (let i = 0; i < 12; i++) {
      try {
        limiter.attempt(OWNER, ATTACKER);
      } catch {
        // throttled: the guesser keeps trying
      }
      c.advance(SEC);
    }
    limiter.attempt(OWNER, HOME);
    limiter.succeeded(OWNER, HOME);
    refusal(() => limiter.attempt(OWNER, ATTACKER));
  });

  it('allows 20 failures per address across accounts in 15 minutes, then refuses every account there', () => {
    const c = clock();
    const limiter = new LoginRateLimiter({}, c.now);
    for (let i = 0; i < 20; i++) limiter.attempt(`u${i}@example.com`, ATTACKER);
    const err = refusal(() => limiter.attempt('fresh@example.com', ATTACKER));
    expect(err.retryAfterSeconds).toBe(900);
    limiter.attempt('fresh@example.com', HOME);
    c.advance(15 * MIN);
    limiter.attempt('fresh@example.com', ATTACKER);
  });

  it('undoes the attempt on success: the pair starts again, the address count drops by one', () => {
    const limiter = new LoginRateLimiter({ maxFailuresPerAddress: 4 }, clock().now);
    for (let i = 0; i < 2; i++) limiter.attempt(OWNER, HOME);
    limiter.attempt(OWNER, HOME);
    limiter.succeeded(OWNER, HOME);
    // Two failures remain counted for the address; the pair has none.
    for (let i = 0; i < 2; i++) limiter.attempt(OWNER, HOME);
    refusal(() => limiter.attempt('other@example.com', HOME));
  });

  it('keeps memory bounded by evicting the least recently failed keys', () => {
    const limiter = new LoginRateLimiter({ maxKeys: 100 }, clock().now);
    for (let i = 0; i < 1000; i++) limiter.attempt(`u${i}@example.com`, `addr-${i}`);
    expect(limiter.trackedKeys).toEqual({ pairs: 100, addresses: 100 });
  });
});
