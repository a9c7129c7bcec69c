// The decisions of webhook delivery, pure: when a failed delivery is tried again (capped exponential
// backoff, given up once it would be older than the max age), when a subscription has failed too often
// and is disabled, and which deliveries are due (the head of each (subscription, workflow) queue whose
// time has come; a later event of a queue waits while an earlier one is pending, so a receiver sees a
// workflow's events in log order).

export interface WebhookRetrySettings {
  readonly baseMs: number;
  readonly capMs: number;
  /** A delivery is tried until this long after its event was recorded, then given up. */
  readonly maxAgeMs: number;
  /** Consecutive failed attempts (any delivery of the subscription) that disable it. */
  readonly disableAfter: number;
}

/** The wait after the `attempts`-th failed attempt: base, 2·base, 4·base, … up to the cap. */
export function backoffMs(attempts: number, s: Pick<WebhookRetrySettings, 'baseMs' | 'capMs'>): number {
  return Math.min(s.capMs, s.baseMs * 2 ** Math.min(40, Math.max(0, attempts - 1)));
}

export type AttemptResult = { readonly ok: true; readonly status: number } | FailedAttempt;
export interface FailedAttempt {
  readonly ok: false;
  readonly status?: number;
  readonly error: string;
}

export type DeliveryOutcome =
  | { readonly status: 'delivered' }
  | { readonly status: 'pending'; readonly nextAttemptAt: Date }
  | { readonly status: 'failed' };

/** What a delivery becomes after its `attempts`-th attempt (counting this one) ended in `result`. */
export function afterAttempt(
  delivery: { readonly createdAt: Date; readonly attempts: number },
  result: AttemptResult,
  now: Date,
  s: WebhookRetrySettings,
): DeliveryOutcome {
  if (result.ok) return { status: 'delivered' };
  const next = now.getTime() + backoffMs(delivery.attempts, s);
  if (next - delivery.createdAt.getTime() > s.maxAgeMs) return { status: 'failed' };
  return { status: 'pending', nextAttemptAt: new Date(next) };
}

/** A subscription's failure count after an attempt, and whether that disables it. */
export function subscriptionAfterAttempt(
  consecutiveFailures: number,
  ok: boolean,
  s: Pick<WebhookRetrySettings, 'disableAfter'>,
): { readonly consecutiveFailures: number; readonly disable: boolean } {
  if (ok) return { consecutiveFailures: 0, disable: false };
  const failures = consecutiveFailures + 1;
  return { consecutiveFailures: failures, disable: failures >= s.disableAfter };
}

export interface QueueHead {
  readonly id: string;
  readonly sequence: number;
  readonly nextAttemptAt: Date;
}

/**
 * The queue heads to attempt now: those due at `now` and recorded at or below `watermark`, the stream
 * sequence up to which every commit's deliveries are known to be recorded (an earlier event of the
 * same queue may otherwise still be on its way in), soonest first, at most `limit`.
 */
export function dueHeads<H extends QueueHead>(
  heads: readonly H[],
  now: Date,
  watermark: number,
  limit: number,
): H[] {
  return heads
    .filter((h) => h.sequence <= watermark && h.nextAttemptAt.getTime() <= now.getTime())
    .sort((a, b) => a.nextAttemptAt.getTime() - b.nextAttemptAt.getTime())
    .slice(0, limit);
}
