// The real event store on the test's NATS, with faults armed by the test: the next call fails as an
// outage would (the log does not answer in time), or the next appends conflict until a command
// handler's tries are used up (a crowd on one actor). Everything else goes to NATS as usual.
import { UnavailableError } from '../../src/errors.ts';
import {
  type AppendResult,
  ConcurrencyConflict,
  EventStore,
  type StoredCommit,
} from '../../src/events/event-store.ts';
import type { Nats } from '../../src/infra/nats-connection.ts';

export type Fault = 'read_timeout' | 'exhausted_conflicts';

export class FaultyEventStore extends EventStore {
  private timeouts = 0;
  private conflicts = 0;
  /** Faults hit only calls on subjects containing this (the actor under test), when set. */
  private only = '';
  /** How many faults were met: a test checks its fault was hit, not passed around. */
  met = 0;

  constructor(nats: Nats) {
    super(nats.js, nats.jsm);
  }

  /**
   * Arms one fault for calls on subjects containing `only` (an actor's id); `tries` is the command
   * handler's maxAttempts (every try of one command conflicts).
   */
  arm(fault: Fault, only: string, tries: number): void {
    this.only = only;
    if (fault === 'read_timeout') this.timeouts++;
    else this.conflicts += tries;
  }

  private timeout(what: string): void {
    if (this.timeouts === 0 || !what.includes(this.only)) return;
    this.timeouts--;
    this.met++;
    throw new UnavailableError('event_log_unavailable', `reading ${what} took longer than the read timeout`);
  }

  override async lastSequence(subject: string): Promise<number> {
    this.timeout(subject);
    return super.lastSequence(subject);
  }

  override async read(
    subject: string,
    from?: number,
    until?: number,
    limit?: number,
  ): Promise<StoredCommit[]> {
    this.timeout(subject);
    return super.read(subject, from, until, limit);
  }

  override async append(
    subject: string,
    events: Parameters<EventStore['append']>[1],
    expectedLastSequence: number,
    commitId: string,
  ): Promise<AppendResult> {
    this.timeout(subject);
    if (this.conflicts > 0 && subject.includes(this.only)) {
      this.conflicts--;
      this.met++;
      throw new ConcurrencyConflict(subject, expectedLastSequence);
    }
    return super.append(subject, events, expectedLastSequence, commitId);
  }
}
