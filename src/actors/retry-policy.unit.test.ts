import { describe, expect, it } from 'vitest';
import { DEFAULT_RETRY_POLICY, retryDelayMs } from './retry-policy.ts';

describe('retryDelayMs', () => {
  it('doubles from 1 s after each failed attempt', () => {
    expect([1, 2, 3, 4, 5, 6].map((attempt) => retryDelayMs(attempt))).toEqual([
      1_000, 2_000, 4_000, 8_000, 16_000, 32_000,
    ]);
  });

  it('is capped at 60 s, even for absurd attempts', () => {
    expect(retryDelayMs(7)).toBe(60_000);
    expect(retryDelayMs(10_000)).toBe(60_000);
  });

  it('treats attempts below 1 as the first', () => {
    expect(retryDelayMs(0)).toBe(1_000);
  });

  it('follows a given policy', () => {
    const policy = { ...DEFAULT_RETRY_POLICY, base_ms: 500, cap_ms: 3_000 };
    expect([1, 2, 3, 4].map((attempt) => retryDelayMs(attempt, policy))).toEqual([500, 1_000, 2_000, 3_000]);
  });
});
