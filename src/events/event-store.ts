// The event log on JetStream. One message is one *commit*: the events one command decided, appended
// atomically (JetStream has no multi-message transaction before 2.12, and a half-written decision —
// JobFailed without its JobRetryScheduled — would be a lie in the log). Appends name the expected last
// sequence of the aggregate's subject (optimistic concurrency) and carry the command id as Nats-Msg-Id,
// so the same command twice appends once.
import {
  DeliverPolicy,
  JetStreamApiCodes,
  JetStreamApiError,
  type JetStreamClient,
  type JetStreamManager,
} from '@nats-io/jetstream';
import { headers as natsHeaders } from '@nats-io/transport-node';
import { UnavailableError } from '../errors.ts';
import { tracedPublish } from '../telemetry/messaging.ts';
import { type EventEnvelope, upcast } from './envelope.ts';
import { streamNames } from './stream-definitions.ts';
import { subjectTemplate } from './subjects.ts';
import { utf8Bytes, utf8Text } from './utf8.ts';

/** A commit as read back: its stream sequence and its events, upcast to their current versions. */
export interface StoredCommit {
  readonly sequence: number;
  readonly subject: string;
  readonly events: readonly EventEnvelope[];
  /**
   * The subject's sequence this commit was appended after (its Cv-Previous-Sequence header), where
   * the read had it: a first commit found with `previous` above where the read began means earlier
   * commits were moved to the archive.
   */
  readonly previous?: number;
}

export interface AppendResult {
  /** Stream sequence of the commit (of the earlier one, when this was a duplicate). */
  readonly sequence: number;
  readonly duplicate: boolean;
}

/**
 * Someone appended to the subject first. The command handler reloads and decides again; one that
 * still conflicts after its last try (a crowd on one actor) is an outage, not a refusal: the same
 * command may well land a moment later, so it is retryable (503 with Retry-After over HTTP).
 */
export class ConcurrencyConflict extends UnavailableError {
  constructor(
    subject: string,
    expected: number,
    /** The subject's last sequence as the server reported it with the refusal, when it did. */
    readonly currentSequence?: number,
  ) {
    super('concurrency_conflict', `${subject} changed since sequence ${expected}; reload and retry`, {
      retryAfterSeconds: 1,
    });
  }
}

/** What nats.js throws when the server did not answer in time, or the connection is not there. */
const NATS_OUTAGES = new Set([
  'TimeoutError',
  'ClosedConnectionError',
  'DrainingConnectionError',
  'ConnectionError',
  'NoRespondersError',
  'RequestError',
]);

/** JetStream said it cannot serve now (10008: temporarily unavailable; 503: no leader / no responders). */
function isNatsOutage(err: unknown): boolean {
  if (!(err instanceof Error)) return false;
  if (NATS_OUTAGES.has(err.name)) return true;
  if (err instanceof JetStreamApiError) return err.code === 10008 || err.status === 503;
  return err.cause !== undefined && isNatsOutage(err.cause);
}

/**
 * A NATS failure of a store call becomes an outage the caller can tell from a refusal; anything else
 * (a bug, a commit that does not decode) is left as it is.
 */
function asOutage(err: unknown, what: string): unknown {
  if (!isNatsOutage(err)) return err;
  return new UnavailableError('event_log_unavailable', `the event log did not answer (${what})`, {
    cause: err,
  });
}

/** nats-server's refusal reads "wrong last sequence: N"; N saves asking for the last sequence again. */
function reportedLastSequence(message: string): number | undefined {
  const n = /wrong last sequence: (\d+)/.exec(message)?.[1];
  return n === undefined ? undefined : Number(n);
}

export function encodeCommit(events: readonly EventEnvelope[]): Uint8Array {
  return utf8Bytes(JSON.stringify(events));
}

export function decodeCommit(data: Uint8Array): EventEnvelope[] {
  const parsed: unknown = JSON.parse(utf8Text(data));
  if (!Array.isArray(parsed)) throw new Error('a commit is a JSON array of event envelopes');
  return parsed.map((e) => upcast(e));
}

/** Commits read by direct get before a long history switches to a consumer. */
const DIRECT_READS = 16;

/** Every commit names its events' types in this header, so readers can skip it unparsed. */
export const EVENT_TYPES_HEADER = 'Cv-Event-Types';

/**
 * Every commit names the sequence of its subject it was appended after (the expected last sequence;
 * 0 for an actor's first commit). A process holding that actor's snapshot at exactly that version can
 * fold the commit in as it is delivered, instead of reading the subject back before its next use.
 */
export const PREVIOUS_SEQUENCE_HEADER = 'Cv-Previous-Sequence';

function previousOf(headers: { get(name: string): string } | undefined): { previous?: number } {
  const header = headers?.get(PREVIOUS_SEQUENCE_HEADER);
  return header ? { previous: Number(header) } : {};
}

/** A delivered commit, decoded only if someone asks. */
export interface ObservedCommit {
  readonly subject: string;
  readonly sequence: number;
  /** Its subject's sequence before it; undefined for commits written before the header existed. */
  readonly previous: number | undefined;
  events(): readonly EventEnvelope[];
}

export function observedCommit(m: {
  subject: string;
  seq: number;
  data: Uint8Array;
  headers?: { get(name: string): string } | undefined;
}): ObservedCommit {
  let decoded: readonly EventEnvelope[] | undefined;
  return {
    subject: m.subject,
    sequence: m.seq,
    previous: previousOf(m.headers).previous,
    events() {
      decoded ??= decodeCommit(m.data);
      return decoded;
    },
  };
}

export class EventStore {
  constructor(
    private readonly js: JetStreamClient,
    private readonly jsm: JetStreamManager,
    readonly stream: string = streamNames.events,
    private readonly readTimeoutMs = 15_000,
  ) {}

  /**
   * Appends one commit to `subject` if its last sequence is still `expectedLastSequence` (0: the
   * subject must be empty). Throws ConcurrencyConflict otherwise.
   */
  async append(
    subject: string,
    events: readonly EventEnvelope[],
    expectedLastSequence: number,
    commitId: string,
  ): Promise<AppendResult> {
    if (events.length === 0) throw new Error('a commit needs at least one event');
    const h = natsHeaders();
    const types = events.map((e) => e.type).join(',');
    h.set(EVENT_TYPES_HEADER, types);
    h.set(PREVIOUS_SEQUENCE_HEADER, String(expectedLastSequence));
    // A PRODUCER span per commit; the message carries its context (traceparent), so the consumers of
    // the commit continue the trace of whoever decided it. With the SDK off, no header is added.
    return tracedPublish(
      {
        template: subjectTemplate(subject),
        subject,
        messageId: commitId,
        attributes: { 'chronoverse.event.types': types },
      },
      h,
      async (span) => {
        try {
          const ack = await this.js.publish(subject, encodeCommit(events), {
            msgID: commitId,
            expect: { lastSubjectSequence: expectedLastSequence },
            headers: h,
          });
          if (ack.duplicate) span.setAttribute('chronoverse.commit.duplicate', true);
          return { sequence: ack.seq, duplicate: ack.duplicate };
        } catch (err) {
          if (err instanceof JetStreamApiError && err.code === JetStreamApiCodes.StreamWrongLastSequence) {
            throw new ConcurrencyConflict(subject, expectedLastSequence, reportedLastSequence(err.message));
          }
          // A timeout or a lost connection: the commit may or may not be in the log. The same command id
          // appends it at most once, so the caller may retry it as it is.
          throw asOutage(err, `append to ${subject}`);
        }
      },
    );
  }

  /**
   * The stream sequence of the subject's last commit, 0 when it has none, as the nearest replica has
   * it (a direct get): on a replicated stream it may be behind an append acknowledged a moment ago.
   */
  async lastSequence(subject: string): Promise<number> {
    try {
      const msg = await this.jsm.direct.getMessage(this.stream, { last_by_subj: subject });
      return msg?.seq ?? 0;
    } catch (err) {
      throw asOutage(err, `last sequence of ${subject}`);
    }
  }

  /**
   * The subject's last sequence as the stream's leader has it, 0 when it has none. A request to the
   * leader rather than to the nearest replica: never behind an acknowledged append, where
   * `lastSequence` may be on a replicated stream (a replica answers a direct get with what it has).
   */
  async lastSequenceAtLeader(subject: string): Promise<number> {
    try {
      const msg = await this.jsm.streams.getMessage(this.stream, { last_by_subj: subject });
      return msg?.seq ?? 0;
    } catch (err) {
      throw asOutage(err, `last sequence of ${subject} at the stream leader`);
    }
  }

  /**
   * The subject's commits with sequence >= `fromSequence`, up to and including `untilSequence`
   * (default: the last one now), oldest first, at most `limit` of them.
   */
  async read(
    subject: string,
    fromSequence = 1,
    untilSequence?: number,
    limit = Number.POSITIVE_INFINITY,
  ): Promise<StoredCommit[]> {
    try {
      return await this.readCommits(subject, fromSequence, untilSequence, limit);
    } catch (err) {
      throw asOutage(err, `read of ${subject}`);
    }
  }

  private async readCommits(
    subject: string,
    fromSequence: number,
    untilSequence: number | undefined,
    limit: number,
  ): Promise<StoredCommit[]> {
    const until = untilSequence ?? (await this.lastSequence(subject));
    if (until < fromSequence) return [];
    const commits: StoredCommit[] = [];
    // Most reads are short (a snapshot a few commits behind, a young actor): direct gets cost one
    // request per commit, where a consumer costs three requests before the first message.
    let next = fromSequence;
    for (let i = 0; i < DIRECT_READS; i++) {
      const m = await this.jsm.direct.getMessage(this.stream, { seq: next, next_by_subj: subject });
      if (!m || m.seq > until) return commits;
      commits.push({
        sequence: m.seq,
        subject: m.subject,
        events: decodeCommit(m.data),
        ...previousOf(m.header),
      });
      if (m.seq >= until || commits.length >= limit) return commits;
      next = m.seq + 1;
    }
    // Nothing more up to `until` (it need not be a commit of this subject): no consumer to wait on.
    const after = await this.jsm.direct.getMessage(this.stream, { seq: next, next_by_subj: subject });
    if (!after || after.seq > until) return commits;
    const consumer = await this.js.consumers.get(this.stream, {
      filter_subjects: subject,
      deliver_policy: DeliverPolicy.StartSequence,
      opt_start_seq: next,
    });
    const messages = await consumer.consume({ max_messages: 512 });
    // A read never waits forever: a consumer that stops delivering ends the read with an error the
    // caller can retry, instead of stalling whoever waits on it (a scheduling pass, a request).
    let timedOut = false;
    const deadline = setTimeout(() => {
      timedOut = true;
      messages.stop();
    }, this.readTimeoutMs);
    // Where the read ran out of the subject's commits before `until` (nothing more was pending), it is
    // complete: `until` need not be a commit of this subject.
    let exhausted = false;
    try {
      for await (const m of messages) {
        if (m.seq > until) {
          exhausted = true;
          break;
        }
        commits.push({
          sequence: m.seq,
          subject: m.subject,
          events: decodeCommit(m.data),
          ...previousOf(m.headers),
        });
        if (m.seq >= until || commits.length >= limit) break;
        if (m.info.pending === 0) {
          exhausted = true;
          break;
        }
      }
    } finally {
      clearTimeout(deadline);
      messages.stop();
      await consumer.delete().catch(() => {});
    }
    if (timedOut && !exhausted && (commits.at(-1)?.sequence ?? 0) < until && commits.length < limit) {
      throw new UnavailableError(
        'event_log_unavailable',
        `reading ${subject} took longer than ${this.readTimeoutMs} ms`,
      );
    }
    return commits;
  }
}
