// Slows password guessing without letting anyone lock an owner out of their account (OWASP's
// authentication guidance). Failed logins are counted per (account, client address): after a few
// free failures each further attempt from that address on that account waits a delay that doubles
// with every failure, up to a cap, so a guesser at one address gets a handful of tries an hour while
// the owner, from their own address, is not slowed at all. Failures are also counted per address
// across accounts (a sliding window), which stops one address from spraying many accounts. Nothing
// counts per account alone: that would let a stranger lock the owner out. In-process (each API
// process counts its own), with bounded memory.
import { TooManyRequestsError } from '../errors.ts';

export interface LoginRateLimits {
  /** Failures of one (account, address) pair that cost no delay. */
  readonly freeFailuresPerPair: number;
  /** The delay after the first failure past the free ones; it doubles with every further failure. */
  readonly pairBaseDelayMs: number;
  /** The longest delay one pair waits between attempts. */
  readonly pairMaxDelayMs: number;
  /** A pair without a failure for this long starts again from nothing. */
  readonly pairResetMs: number;
  /** Failures of one address across accounts allowed in `addressWindowMs`. */
  readonly maxFailuresPerAddress: number;
  readonly addressWindowMs: number;
  /** How many pairs and addresses are tracked at most; the least recently failed are forgotten. */
  readonly maxKeys: number;
}

export const DEFAULT_LOGIN_RATE_LIMITS: LoginRateLimits = {
  freeFailuresPerPair: 3,
  pairBaseDelayMs: 1_000,
  pairMaxDelayMs: 15 * 60_000,
  pairResetMs: 60 * 60_000,
  maxFailuresPerAddress: 20,
  addressWindowMs: 15 * 60_000,
  maxKeys: 50_000,
};

/** A Map that forgets its least recently written keys past `maxKeys`. */
class BoundedMap<V> {
  private readonly entries = new Map<string, V>();
  constructor(private readonly maxKeys: number) {}

  get(key: string): V | undefined {
    return this.entries.get(key);
  }

  set(key: string, value: V): void {
    // Re-inserted, so the Map's order is least recently written first; evicted from the front.
    this.entries.delete(key);
    this.entries.set(key, value);
    while (this.entries.size > this.maxKeys) {
      const oldest = this.entries.keys().next().value;
      if (oldest === undefined) break;
      this.entries.delete(oldest);
    }
  }

  delete(key: string): void {
    this.entries.delete(key);
  }

  get size(): number {
    return this.entries.size;
  }
}

interface PairState {
  failures: number;
  lastFailureMs: number;
}

export class LoginRateLimiter {
  private readonly limits: LoginRateLimits;
  private readonly pairs: BoundedMap<PairState>;
  /** Failure times of one address, oldest first; never longer than its limit. */
  private readonly addresses: BoundedMap<number[]>;
  private readonly now: () => Date;

  constructor(limits: Partial<LoginRateLimits> = {}, now: () => Date = () => new Date()) {
    this.limits = { ...DEFAULT_LOGIN_RATE_LIMITS, ...limits };
    this.pairs = new BoundedMap(this.limits.maxKeys);
    this.addresses = new BoundedMap(this.limits.maxKeys);
    this.now = now;
  }

  /**
   * Begins a login attempt: throws TooManyRequestsError `too_many_login_attempts` (with
   * retryAfterSeconds) while this account may not be tried from this address yet, or while the
   * address is over its limit; otherwise counts the attempt as a failure until `succeeded` says
   * otherwise. Counted before the password is checked, so concurrent guesses cannot all slip
   * through one check before any of them has failed.
   */
  attempt(email: string, address: string): void {
    const t = this.now().getTime();
    const key = pairKey(email, address);
    const waitMs = Math.max(this.pairWaitMs(key, t), this.addressWaitMs(address, t));
    if (waitMs > 0) {
      const retryAfterSeconds = Math.ceil(waitMs / 1000);
      throw new TooManyRequestsError(
        'too_many_login_attempts',
        `Too many failed logins from this address; try again in ${retryAfterSeconds} s`,
        { details: { retry_after_seconds: retryAfterSeconds }, retryAfterSeconds },
      );
    }
    const pair = this.livePair(key, t);
    this.pairs.set(key, { failures: (pair?.failures ?? 0) + 1, lastFailureMs: t });
    const times = this.liveAddressFailures(address, t);
    times.push(t);
    if (times.length > this.limits.maxFailuresPerAddress) times.shift();
    this.addresses.set(address, times);
  }

  /** The attempt logged in: the pair starts again from nothing, and the address's count is undone. */
  succeeded(email: string, address: string): void {
    this.pairs.delete(pairKey(email, address));
    const times = this.addresses.get(address);
    times?.pop();
    if (times?.length === 0) this.addresses.delete(address);
  }

  /** The delay a pair waits after `failures` failures. */
  delayAfter(failures: number): number {
    const { freeFailuresPerPair: free, pairBaseDelayMs: base, pairMaxDelayMs: max } = this.limits;
    if (failures < free) return 0;
    return Math.min(max, base * 2 ** Math.min(failures - free, 40));
  }

  /** Tracked keys, for tests of the memory bound. */
  get trackedKeys(): { pairs: number; addresses: number } {
    return { pairs: this.pairs.size, addresses: this.addresses.size };
  }

  private pairWaitMs(key: string, t: number): number {
    const pair = this.livePair(key, t);
    return pair ? pair.lastFailureMs + this.delayAfter(pair.failures) - t : 0;
  }

  private livePair(key: string, t: number): PairState | undefined {
    const pair = this.pairs.get(key);
    if (pair && t - pair.lastFailureMs >= this.limits.pairResetMs) {
      this.pairs.delete(key);
      return undefined;
    }
    return pair;
  }

  private addressWaitMs(address: string, t: number): number {
    const times = this.liveAddressFailures(address, t);
    if (times.length < this.limits.maxFailuresPerAddress) return 0;
    return times[0]! + this.limits.addressWindowMs - t;
  }

  private liveAddressFailures(address: string, t: number): number[] {
    const times = this.addresses.get(address) ?? [];
    while (times.length && times[0]! <= t - this.limits.addressWindowMs) times.shift();
    if (times.length === 0) this.addresses.delete(address);
    return times;
  }
}

/** Emails are lower-cased before they get here; the separator cannot occur in an email. */
const pairKey = (email: string, address: string): string => `${email}\n${address}`;
