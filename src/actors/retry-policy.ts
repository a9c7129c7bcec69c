// How failed job attempts are retried: a typed policy with capped exponential backoff.
import type { RetryPolicy } from '../events/job-events.ts';

export type { RetryPolicy } from '../events/job-events.ts';

/** Three attempts as in the original; waits 1 s, 2 s, 4 s … never more than 60 s. */
export const DEFAULT_RETRY_POLICY: RetryPolicy = { max_attempts: 3, base_ms: 1_000, cap_ms: 60_000 };

/** Delay after failed attempt `attempt` (1-based): min(cap, base · 2^(attempt − 1)). */
export function retryDelayMs(attempt: number, policy: RetryPolicy = DEFAULT_RETRY_POLICY): number {
  const exponent = Math.max(0, Math.floor(attempt) - 1);
  // 2 ** exponent overflows to Infinity for huge attempts, which the cap absorbs.
  return Math.min(policy.cap_ms, policy.base_ms * 2 ** exponent);
}
