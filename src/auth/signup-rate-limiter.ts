// Slows mass account creation: sign-ups are counted per client address in a sliding window (an
// hour), and past CV_SIGNUP_LIMIT_PER_HOUR an address waits, with a 429 and Retry-After, until its
// oldest attempt leaves the window. Every attempt counts, taken or refused, so guessing which emails
// exist costs the same. In-process (each API process counts its own), with bounded memory.
import { TooManyRequestsError } from '../errors.ts';

const WINDOW_MS = 60 * 60_000;

export class SignupRateLimiter {
  private readonly attempts = new Map<string, number[]>();

  constructor(
    private readonly limitPerHour: number,
    private readonly now: () => Date = () => new Date(),
    private readonly maxAddresses = 50_000,
  ) {}

  /** Counts an attempt from `address`, or throws TooManyRequestsError when it has used its hour. */
  attempt(address: string): void {
    const t = this.now().getTime();
    const recent = (this.attempts.get(address) ?? []).filter((at) => t - at < WINDOW_MS);
    if (recent.length >= this.limitPerHour) {
      const retryAfterMs = WINDOW_MS - (t - recent[0]!);
      this.remember(address, recent);
      throw new TooManyRequestsError(
        'too_many_signups',
        `Too many sign-ups from this address; try again in ${Math.ceil(retryAfterMs / 60_000)} minutes`,
        { retryAfterSeconds: Math.max(1, Math.ceil(retryAfterMs / 1000)) },
      );
    }
    recent.push(t);
    this.remember(address, recent);
  }

  private remember(address: string, times: number[]): void {
    this.attempts.delete(address);
    this.attempts.set(address, times);
    while (this.attempts.size > this.maxAddresses) {
      const oldest = this.attempts.keys().next().value;
      if (oldest === undefined) break;
      this.attempts.delete(oldest);
    }
  }
}
