// Slows password guessing: failed logins are counted in a sliding window per email and per client
// address; past the limit, logins from that email or address are refused until the oldest failure in
// the window ages out. In-process (each API process counts its own), with bounded memory.
import { TooManyRequestsError } from '../errors.ts';

export interface LoginRateLimits {
  readonly windowMs: number;
  readonly maxFailuresPerEmail: number;
  readonly maxFailuresPerAddress: number;
  /** How many emails and addresses are tracked at most; the least recently failed are forgotten. */
  readonly maxKeys: number;
}

export const DEFAULT_LOGIN_RATE_LIMITS: LoginRateLimits = {
  windowMs: 15 * 60_000,
  maxFailuresPerEmail: 5,
  maxFailuresPerAddress: 20,
  maxKeys: 50_000,
};

/** Failure times of one key, oldest first; never longer than that key's limit. */
class SlidingWindows {
  private readonly failures = new Map<string, number[]>();

  constructor(
    private readonly windowMs: number,
    private readonly limit: number,
    private readonly maxKeys: number,
  ) {}

  /** Milliseconds until a new attempt is allowed, 0 when it is allowed now. */
  waitMs(key: string, now: number): number {
    const times = this.prune(key, now);
    if (times.length < this.limit) return 0;
    return times[0]! + this.windowMs - now;
  }

  record(key: string, now: number): void {
    const times = this.prune(key, now);
    times.push(now);
    if (times.length > this.limit) times.shift();
    // Re-insert so the Map's order is least-recently-failed first, then evict from the front.
    this.failures.delete(key);
    this.failures.set(key, times);
    while (this.failures.size > this.maxKeys) {
      const oldest = this.failures.keys().next().value;
      if (oldest === undefined) break;
      this.failures.delete(oldest);
    }
  }

  forget(key: string): void {
    this.failures.delete(key);
  }

  private prune(key: string, now: number): number[] {
    const times = this.failures.get(key) ?? [];
    while (times.length && times[0]! <= now - this.windowMs) times.shift();
    if (times.length === 0) this.failures.delete(key);
    return times;
  }

  get size(): number {
    return this.failures.size;
  }
}

export class LoginRateLimiter {
  private readonly byEmail: SlidingWindows;
  private readonly byAddress: SlidingWindows;
  private readonly now: () => Date;

  constructor(limits: Partial<LoginRateLimits> = {}, now: () => Date = () => new Date()) {
    const l = { ...DEFAULT_LOGIN_RATE_LIMITS, ...limits };
    this.byEmail = new SlidingWindows(l.windowMs, l.maxFailuresPerEmail, l.maxKeys);
    this.byAddress = new SlidingWindows(l.windowMs, l.maxFailuresPerAddress, l.maxKeys);
    this.now = now;
  }

  /** Throws TooManyRequestsError `too_many_login_attempts` when either the email or the address is over its limit. */
  check(email: string, address: string): void {
    const t = this.now().getTime();
    const waitMs = Math.max(this.byEmail.waitMs(email, t), this.byAddress.waitMs(address, t));
    if (waitMs <= 0) return;
    const retryAfterSeconds = Math.ceil(waitMs / 1000);
    throw new TooManyRequestsError(
      'too_many_login_attempts',
      `Too many failed logins; try again in ${retryAfterSeconds} s`,
      { details: { retry_after_seconds: retryAfterSeconds } },
    );
  }

  recordFailure(email: string, address: string): void {
    const t = this.now().getTime();
    this.byEmail.record(email, t);
    this.byAddress.record(address, t);
  }

  /** A successful login clears the email's failures (not the address's: one address may try many emails). */
  recordSuccess(email: string): void {
    this.byEmail.forget(email);
  }

  /** Tracked keys, for tests of the memory bound. */
  get trackedKeys(): { emails: number; addresses: number } {
    return { emails: this.byEmail.size, addresses: this.byAddress.size };
  }
}
