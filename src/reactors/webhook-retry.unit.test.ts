import { describe, expect, it } from 'vitest';
import { afterAttempt, backoffMs, dueHeads, subscriptionAfterAttempt } from './webhook-retry.ts';

const s = { baseMs: 1000, capMs: 60_000, maxAgeMs: 86_400_000, disableAfter: 3 };

describe('backoff', () => {
  it('doubles from the base and stops at the cap', () => {
    expect([1, 2, 3, 4, 5, 6, 7, 8, 100].map((n) => backoffMs(n, s))).toEqual([
      1000, 2000, 4000, 8000, 16_000, 32_000, 60_000, 60_000, 60_000,
    ]);
  });
});

describe('after an attempt', () => {
  const createdAt = new Date('2026-12-06T00:00:00Z');
  it('a 2xx is delivered', () => {
    expect(afterAttempt({ createdAt, attempts: 1 }, { ok: true, status: 200 }, createdAt, s)).toEqual({
      status: 'delivered',
    });
  });
  it('a failure is tried again after the backoff', () => {
    const now = new Date(createdAt.getTime() + 5000);
    expect(afterAttempt({ createdAt, attempts: 3 }, { ok: false, error: 'x' }, now, s)).toEqual({
      status: 'pending',
      nextAttemptAt: new Date(now.getTime() + 4000),
    });
  });
  it('is given up when the next try would fall past the max age', () => {
    const now = new Date(createdAt.getTime() + s.maxAgeMs - 30_000);
    expect(afterAttempt({ createdAt, attempts: 10 }, { ok: false, error: 'x' }, now, s)).toEqual({
      status: 'failed',
    });
  });
});

describe('the subscription', () => {
  it('counts consecutive failures, resets on a success and is disabled at the threshold', () => {
    expect(subscriptionAfterAttempt(0, false, s)).toEqual({ consecutiveFailures: 1, disable: false });
    expect(subscriptionAfterAttempt(1, false, s)).toEqual({ consecutiveFailures: 2, disable: false });
    expect(subscriptionAfterAttempt(2, false, s)).toEqual({ consecutiveFailures: 3, disable: true });
    expect(subscriptionAfterAttempt(2, true, s)).toEqual({ consecutiveFailures: 0, disable: false });
  });
});

describe('due heads', () => {
  const now = new Date('2026-12-06T12:00:00Z');
  const at = (ms: number) => new Date(now.getTime() + ms);
  it('keeps heads due now and at or below the watermark, soonest first, at most the limit', () => {
    const heads = [
      { id: 'later', sequence: 5, nextAttemptAt: at(1) },
      { id: 'b', sequence: 6, nextAttemptAt: at(0) },
      { id: 'a', sequence: 7, nextAttemptAt: at(-10) },
      { id: 'unrecorded-before', sequence: 11, nextAttemptAt: at(-100) },
      { id: 'c', sequence: 10, nextAttemptAt: at(-1) },
    ];
    expect(dueHeads(heads, now, 10, 10).map((h) => h.id)).toEqual(['a', 'c', 'b']);
    expect(dueHeads(heads, now, 10, 2).map((h) => h.id)).toEqual(['a', 'c']);
  });
});
