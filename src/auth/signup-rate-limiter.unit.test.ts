import { describe, expect, it } from 'vitest';
import { TooManyRequestsError } from '../errors.ts';
import { SignupRateLimiter } from './signup-rate-limiter.ts';

describe('sign-ups per address', () => {
  it('allow the limit in an hour, then refuse with the wait until the oldest leaves the window', () => {
    let t = Date.parse('2026-12-06T10:00:00Z');
    const limiter = new SignupRateLimiter(3, () => new Date(t));
    for (let i = 0; i < 3; i++) {
      limiter.attempt('198.51.100.7');
      t += 60_000;
    }
    let refused: unknown;
    try {
      limiter.attempt('198.51.100.7');
    } catch (err) {
      refused = err;
    }
    expect(refused).toBeInstanceOf(TooManyRequestsError);
    expect((refused as TooManyRequestsError).retryAfterSeconds).toBe(57 * 60);
    // Another address is not slowed; the first is allowed again once its oldest attempt is an hour old.
    expect(() => limiter.attempt('198.51.100.8')).not.toThrow();
    t += 57 * 60_000;
    expect(() => limiter.attempt('198.51.100.7')).not.toThrow();
  });
});
