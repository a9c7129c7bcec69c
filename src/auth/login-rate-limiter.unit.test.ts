import { describe, expect, it } from 'vitest';
import { TooManyRequestsError } from '../errors.ts';
import { LoginRateLimiter } from './login-rate-limiter.ts';

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

describe('login rate limiter', () => {
  it('allows 5 failures per email in 15 minutes, then refuses with retry_after_seconds', () => {
    const c = clock();
    const limiter = new LoginRateLimiter({}, c.now);
    for (let i = 0; i < 5; i++) {
      limiter.check('a@example.com', `10.0.0.${i}`);
      limiter.recordFailure('a@example.com', `10.0.0.${i}`);
      c.advance(MIN);
    }
    const err = refusal(() => limiter.check('a@example.com', '10.9.9.9'));
    expect(err.code).toBe('too_many_login_attempts');
    expect(err.status).toBe(429);
    // The first failure was 5 minutes ago: it leaves the window in 10 minutes.
    expect(err.details).toEqual({ retry_after_seconds: 600 });
    limiter.check('b@example.com', '10.9.9.9');
  });

  it('slides: each failure ageing out frees one attempt', () => {
    const c = clock();
    const limiter = new LoginRateLimiter({}, c.now);
    for (let i = 0; i < 5; i++) {
      limiter.recordFailure('a@example.com', 'x');
      c.advance(MIN);
    }
    c.advance(10 * MIN - 1);
    refusal(() => limiter.check('a@example.com', 'x'));
    c.advance(1);
    limiter.check('a@example.com', 'x');
    limiter.recordFailure('a@example.com', 'x');
    expect(refusal(() => limiter.check('a@example.com', 'x')).details).toEqual({ retry_after_seconds: 60 });
  });

  it('allows 20 failures per address across emails', () => {
    const limiter = new LoginRateLimiter({}, clock().now);
    for (let i = 0; i < 20; i++) {
      limiter.check(`u${i}@example.com`, '192.0.2.1');
      limiter.recordFailure(`u${i}@example.com`, '192.0.2.1');
    }
    refusal(() => limiter.check('fresh@example.com', '192.0.2.1'));
    limiter.check('fresh@example.com', '192.0.2.2');
  });

  it('forgets the email failures on success, not the address ones', () => {
    const limiter = new LoginRateLimiter({ maxFailuresPerAddress: 5 }, clock().now);
    for (let i = 0; i < 4; i++) limiter.recordFailure('a@example.com', 'x');
    limiter.recordSuccess('a@example.com');
    for (let i = 0; i < 4; i++) limiter.recordFailure('a@example.com', 'y');
    limiter.check('a@example.com', 'y');
    limiter.recordFailure('a@example.com', 'x');
    refusal(() => limiter.check('other@example.com', 'x'));
  });

  it('keeps memory bounded by evicting the least recently failed keys', () => {
    const limiter = new LoginRateLimiter({ maxKeys: 100 }, clock().now);
    for (let i = 0; i < 1000; i++) limiter.recordFailure(`u${i}@example.com`, `addr-${i}`);
    expect(limiter.trackedKeys).toEqual({ emails: 100, addresses: 100 });
  });
});
