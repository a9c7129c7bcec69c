// Runs a command against one actor: load its state (cached snapshot plus the commits since, or a
// replay of its subject), decide with the pure decider, append the commit with the expected subject
// sequence. A sequence conflict means someone else appended first: reload and decide again, with
// backoff; past the last try the caller gets a ConcurrencyConflict, an outage (HTTP 503, Retry-After).
import type { AnyStateMachine, ContextFrom, EventFromLogic, SnapshotFrom } from 'xstate';
import { PreconditionFailedError, UnavailableError } from '../errors.ts';
import { mergeBySequence, missesCommits } from '../events/commit-chain.ts';
import type { AggregateKind, EventEnvelope, EventOf } from '../events/envelope.ts';
import { toEnvelopes } from '../events/envelope.ts';
import {
  ConcurrencyConflict,
  type EventStore,
  type ObservedCommit,
  type StoredCommit,
} from '../events/event-store.ts';
import type { ArchiveReader } from '../events/history.ts';
import { nameBasedUuid } from '../events/name-based-id.ts';
import type { SnapshotStore } from '../events/snapshot-bucket.ts';
import { eventSubject, parseEventSubject } from '../events/subjects.ts';
import { type Decider, type PersistedState, restore, snapshotState } from './aggregate.ts';
import { SnapshotCache } from './snapshot-cache.ts';
import { machineFingerprint, usableSnapshot } from './snapshot-store.ts';

export interface CommandRequest<C> {
  /** Unique per intent: a retry of the same intent reuses it, so it appends at most once. */
  readonly commandId: string;
  readonly userId: string;
  readonly aggregateId: string;
  readonly command: C;
  readonly correlationId?: string;
  /** The event or request that caused this command. */
  readonly causationId?: string;
  readonly traceparent?: string;
  readonly tracestate?: string;
  /** The API key the request was made with: stamped on the events (metadata apiKeyId). */
  readonly apiKeyId?: string;
  /** If-Match: the aggregate's version the caller saw; any other current version is a 412. */
  readonly expectedVersion?: number;
  /**
   * The actor is almost surely new (a reactor creating it): decide on the empty state without reading
   * the subject first. Were it there after all, the append (expecting an empty subject) conflicts and
   * the real state is read, and a refusal or no-op on the assumption is checked against it, as for a
   * cached snapshot. Saves a read that answers "no message" on every creation.
   */
  readonly assumeNew?: boolean;
}

export interface CommandResult<M extends AnyStateMachine> {
  /** The events this command appended: empty when it changed nothing (or was a duplicate). */
  readonly events: readonly EventEnvelope[];
  /** The subject's last sequence after the command: the aggregate's version (ETag). */
  readonly version: number;
  readonly state: SnapshotFrom<M>;
}

export interface CommandHandlerOptions {
  readonly now?: () => Date;
  readonly maxAttempts?: number;
  readonly cacheSize?: number;
  /**
   * Told of every optimistic-concurrency conflict (metrics, tests): `retrying` before a retry, or
   * false when it was the last try and the command fails with ConcurrencyConflict.
   */
  readonly onConflict?: (subject: string, attempt: number, retrying: boolean) => void;
  /**
   * The trace context of the caller (W3C strings), stamped on the events of a command that names
   * none: the process wires it to the active span; the core knows nothing of tracing.
   */
  readonly traceContext?: () => { readonly traceparent?: string; readonly tracestate?: string };
  /**
   * Persisted snapshots of the long-lived actors (`snapshotKinds`): a load that misses the cache reads
   * the latest one and only the commits after it, and one is written every `snapshotEvery` commits
   * this process appends or replays, so a cold load costs the same whatever the actor's age.
   */
  readonly snapshots?: SnapshotStore;
  readonly snapshotEvery?: number;
  /** Default: workflows (a job's or a user's subject stays short; asking the store would cost more). */
  readonly snapshotKinds?: readonly AggregateKind[];
  /** Where retention moved the commits of a subject it compacted (src/projections/event-archive.ts). */
  readonly archive?: ArchiveReader;
}

/**
 * Commits a process appends to a workflow between two persisted snapshots. A cold load reads at most
 * about this many commits after the snapshot (more only where several processes write one workflow),
 * which keeps it near the cost of loading a workflow of that age; a snapshot costs a KV write of the
 * workflow's state (a few kB) in the background.
 */
export const SNAPSHOT_EVERY = 10;

/** Event ids derived from the command id, so a repeated command produces byte-identical events. */
export function deriveEventId(commandId: string, index: number): string {
  return nameBasedUuid(`${commandId}#${index}`);
}

export class CommandHandler {
  private readonly now: () => Date;
  private readonly maxAttempts: number;
  private readonly cache: SnapshotCache;
  private readonly onConflict: (subject: string, attempt: number, retrying: boolean) => void;
  private readonly traceContext: () => { readonly traceparent?: string; readonly tracestate?: string };
  /** Per actor subject: the settling of the last command queued on it in this process. */
  private readonly mailboxes = new Map<string, Promise<void>>();
  /** The deciders this handler has been used with, by aggregate: what `observe` folds commits with. */
  // biome-ignore lint/suspicious/noExplicitAny: deciders of different machines share one map
  private readonly deciders = new Map<string, Decider<any, any>>();
  private readonly snapshots: SnapshotStore | undefined;
  private readonly snapshotEvery: number;
  private readonly snapshotKinds: ReadonlySet<string>;
  private readonly archive: ArchiveReader | undefined;
  /** Per subject: commits appended by this process since its snapshot was last persisted. */
  private readonly unsnapshotted = new Map<string, number>();

  constructor(
    readonly store: EventStore,
    options: CommandHandlerOptions = {},
  ) {
    this.now = options.now ?? (() => new Date());
    // A hot aggregate (one workflow, many jobs ending) sees many conflicts in a row; each retry reloads
    // only the commits since its snapshot, so retrying long is cheap.
    this.maxAttempts = options.maxAttempts ?? 30;
    this.cache = new SnapshotCache(options.cacheSize ?? 10_000);
    this.onConflict = options.onConflict ?? (() => {});
    this.traceContext = options.traceContext ?? (() => ({}));
    this.snapshots = options.snapshots;
    this.archive = options.archive;
    this.snapshotEvery = options.snapshotEvery ?? SNAPSHOT_EVERY;
    this.snapshotKinds = new Set(options.snapshotKinds ?? ['workflow']);
  }

  /** Loads an actor's current state and version; `exists` is false when its subject is empty. */
  async load<M extends AnyStateMachine, C extends { readonly type: string }>(
    decider: Decider<M, C>,
    userId: string,
    aggregateId: string,
  ): Promise<{ state: SnapshotFrom<M>; version: number; exists: boolean }> {
    const subject = eventSubject(userId, decider.aggregate, aggregateId);
    this.deciders.set(decider.aggregate, decider);
    return this.loadLatest(decider, subject);
  }

  /**
   * An actor's state at `minVersion` or later. A reactor reacting to the commit at sequence N needs
   * no newer state than that, and when this process decided that commit itself the snapshot is in
   * the cache already: no round trip. `minVersion` 0 accepts any cached snapshot, for fields that
   * never change after creation (a job's workflow id).
   */
  async loadAtLeast<M extends AnyStateMachine, C extends { readonly type: string }>(
    decider: Decider<M, C>,
    userId: string,
    aggregateId: string,
    minVersion: number,
  ): Promise<{ state: SnapshotFrom<M>; version: number; exists: boolean }> {
    const subject = eventSubject(userId, decider.aggregate, aggregateId);
    this.deciders.set(decider.aggregate, decider);
    const cached = this.cache.get<SnapshotFrom<M>>(subject);
    if (cached && cached.version > 0 && cached.version >= minVersion) {
      return { state: cached.state, version: cached.version, exists: true };
    }
    return this.loadLatest(decider, subject);
  }

  /**
   * The actor up to the last commit a replica reports. Where it reports none, or its commits read
   * short of that one, the leader is asked: "no such actor" is an answer users see (a 404, a
   * refusal), and on a replicated log the replicas answering direct gets need not all have stored an
   * actor created a moment ago through another process.
   */
  private async loadLatest<M extends AnyStateMachine, C extends { readonly type: string }>(
    decider: Decider<M, C>,
    subject: string,
  ): Promise<{ state: SnapshotFrom<M>; version: number; exists: boolean }> {
    const last = await this.store.lastSequence(subject);
    if (last > 0) {
      const loaded = await this.loadSubject(decider, subject, last);
      if (loaded.version >= last) return loaded;
    }
    const { confirmed: _, ...loaded } = await this.loadConfirmed(decider, subject);
    return loaded;
  }

  /**
   * For a decision, a cached snapshot is trusted without asking the server for the subject's last
   * sequence: the append names the version it decided on, so a stale cache costs a conflict and a
   * reload, never a wrong write. That saves a round trip per command.
   */
  private async loadForDecision<M extends AnyStateMachine, C extends { readonly type: string }>(
    decider: Decider<M, C>,
    subject: string,
  ): Promise<LoadedForDecision<M>> {
    const cached = this.cache.get<SnapshotFrom<M>>(subject);
    if (cached)
      return { state: cached.state, version: cached.version, exists: cached.version > 0, confirmed: false };
    return {
      ...(await this.loadSubject(decider, subject, await this.store.lastSequence(subject))),
      confirmed: false,
    };
  }

  /**
   * The actor as the stream's leader has it, for a refusal or a "nothing to do" to be final on. Any
   * other load may be behind: a cached snapshot, and on a replicated log also a direct get, which
   * the nearest replica answers; one that has not stored an acknowledged commit yet reads an actor
   * created a moment ago through another process as new, and the command would be refused as
   * not found. Commits up to the leader's last are read until the replica has them (it is
   * milliseconds behind); one still behind after that is an outage, retried like any other.
   */
  private async loadConfirmed<M extends AnyStateMachine, C extends { readonly type: string }>(
    decider: Decider<M, C>,
    subject: string,
  ): Promise<LoadedForDecision<M>> {
    const last = await this.store.lastSequenceAtLeader(subject);
    for (let tries = 1; ; tries++) {
      const loaded = await this.loadSubject(decider, subject, last);
      if (loaded.version >= last) return { ...loaded, confirmed: true };
      if (tries >= REPLICA_CATCH_UP_TRIES) {
        throw new UnavailableError(
          'event_log_unavailable',
          `the replica of the event log this process reads is behind the leader on ${subject}`,
        );
      }
      await sleep(10 * 2 ** tries);
    }
  }

  private async loadSubject<M extends AnyStateMachine, C extends { readonly type: string }>(
    decider: Decider<M, C>,
    subject: string,
    last: number,
  ): Promise<{ state: SnapshotFrom<M>; version: number; exists: boolean }> {
    if (last === 0) return { state: decider.initialState(), version: 0, exists: false };
    const cached = this.cache.get<SnapshotFrom<M>>(subject);
    let start: { state: SnapshotFrom<M>; version: number };
    let commits: readonly StoredCommit[];
    if (cached && cached.version <= last) {
      start = cached;
      commits = await this.withArchived(
        subject,
        cached.version,
        await this.store.read(subject, cached.version + 1, last),
        last,
      );
    } else {
      const stored = await this.storedSnapshot(decider, subject, last);
      // A persisted snapshot is read with the commit it stands for, which must be the one it names:
      // otherwise the snapshot is of another history and the subject is read from its start.
      const read = stored ? await this.store.read(subject, stored.version, last) : [];
      const anchor = read[0];
      if (stored && anchor?.sequence === stored.version && anchor.events.at(-1)?.id === stored.lastEventId) {
        start = stored;
        commits = await this.withArchived(subject, stored.version, read.slice(1), last);
      } else {
        start = { state: decider.initialState(), version: 0 };
        commits = await this.withArchived(subject, 0, await this.store.read(subject, 1, last), last);
      }
    }
    let state = start.state;
    // The version is the last commit actually folded in: were a read ever to stop short of `last`,
    // an append decided on this state names the older version and conflicts, instead of writing on
    // a state that is missing commits.
    let version = start.version;
    for (const commit of commits) {
      for (const e of commit.events)
        state = decider.evolve(state, { type: e.type, data: e.data } as EventFromLogic<M>);
      version = commit.sequence;
    }
    if (version === 0) return { state: decider.initialState(), version: 0, exists: false };
    this.cache.set(subject, version, state);
    const lastEventId = commits.at(-1)?.events.at(-1)?.id;
    if (commits.length >= this.snapshotEvery && lastEventId) {
      this.persistSnapshot(decider, subject, version, lastEventId, state);
    }
    return { state, version, exists: true };
  }

  /**
   * Commits read after `after` up to `last` that miss some the log no longer has (retention moved them
   * to the archive, before or during the read), completed from the archive.
   */
  private async withArchived(
    subject: string,
    after: number,
    commits: StoredCommit[],
    last: number,
  ): Promise<StoredCommit[]> {
    if (!missesCommits(after, commits, last)) return commits;
    if (!this.archive) {
      // Without an archive this process cannot tell a purge from a read cut short: as before retention,
      // the read stands (a state behind `last` only costs its next append a conflict and a reload).
      if ((commits[0]?.previous ?? 0) > after) {
        throw new Error(
          `${subject} has commits after ${after} that left the log, and no archive is configured`,
        );
      }
      return commits;
    }
    const archived = await this.archive.read(subject, after, Number.MAX_SAFE_INTEGER);
    return mergeBySequence(
      archived.filter((c) => c.sequence <= last),
      commits,
    );
  }

  /** The persisted snapshot to start a load from, when this kind has them and one is usable. */
  private async storedSnapshot<M extends AnyStateMachine, C extends { readonly type: string }>(
    decider: Decider<M, C>,
    subject: string,
    last: number,
  ): Promise<{ state: SnapshotFrom<M>; version: number; lastEventId: string } | undefined> {
    if (!this.snapshots || !this.snapshotKinds.has(decider.aggregate)) return undefined;
    try {
      const stored = usableSnapshot(await this.snapshots.get(subject), decider.machine, last);
      if (!stored) return undefined;
      const state = restore(decider.machine, stored.state as PersistedState<ContextFrom<M>>);
      return { state, version: stored.version, lastEventId: stored.lastEventId };
    } catch {
      // Unreachable or unreadable: the subject is read from its start, as without snapshots.
      return undefined;
    }
  }

  /** Writes the actor's snapshot in the background: a failed write only leaves the next load longer. */
  private persistSnapshot<M extends AnyStateMachine, C extends { readonly type: string }>(
    decider: Decider<M, C>,
    subject: string,
    version: number,
    lastEventId: string,
    state: SnapshotFrom<M>,
  ): void {
    if (!this.snapshots || !this.snapshotKinds.has(decider.aggregate)) return;
    this.unsnapshotted.delete(subject);
    const fingerprint = machineFingerprint(decider.machine);
    const snapshot = { version, fingerprint, lastEventId, state: snapshotState(state) };
    void this.snapshots.put(subject, snapshot).catch(() => {});
  }

  /** Counts a commit this process appended; every `snapshotEvery`th persists the snapshot it led to. */
  private countAppended<M extends AnyStateMachine, C extends { readonly type: string }>(
    decider: Decider<M, C>,
    subject: string,
    version: number,
    lastEventId: string,
    state: SnapshotFrom<M>,
  ): void {
    if (!this.snapshots || !this.snapshotKinds.has(decider.aggregate) || !lastEventId) return;
    const count = (this.unsnapshotted.get(subject) ?? 0) + 1;
    if (count >= this.snapshotEvery) {
      this.persistSnapshot(decider, subject, version, lastEventId, state);
      return;
    }
    // Bounded like the cache: a forgotten count only delays a snapshot.
    if (this.unsnapshotted.size >= 100_000) this.unsnapshotted.clear();
    this.unsnapshotted.set(subject, count);
  }

  /**
   * Takes an actor's snapshot from elsewhere (a message that carried it) as a cache entry at
   * `version`: the next command decides on it without a read. Trusted no more than any cached
   * snapshot: a stale one costs a conflict and a read; a refusal or no-op on it is confirmed against
   * the log. An unusable one is ignored.
   */
  prime<M extends AnyStateMachine, C extends { readonly type: string }>(
    decider: Decider<M, C>,
    userId: string,
    aggregateId: string,
    version: number,
    persisted: PersistedState<unknown>,
  ): void {
    if (!Number.isSafeInteger(version) || version <= 0) return;
    try {
      const subject = eventSubject(userId, decider.aggregate, aggregateId);
      this.deciders.set(decider.aggregate, decider);
      this.cache.set(subject, version, restore(decider.machine, persisted as PersistedState<ContextFrom<M>>));
    } catch {
      // Not a snapshot this machine can take: the command reads the actor as it would have.
    }
  }

  /**
   * A commit of the log as a consumer of this process is delivered it. An actor's first commit
   * (it follows sequence 0) puts the actor in the cache; a cached snapshot of a `follow`ed kind at
   * exactly the version the commit follows is moved forward by it. A reactor then finds the actor it
   * reacts to at the commit's version without reading it back, even when the process wrote that
   * commit long ago (under a backlog its own snapshot has left the cache by then), and a command
   * decided next does not conflict with what another process appended meanwhile. Anything else (no
   * snapshot, another version, a commit without the header) is left for the next read. Following is
   * per kind because each fold costs a machine step per event, wasted on actors not used again.
   */
  observe(commit: ObservedCommit, follow?: AggregateKind): void {
    if (commit.previous === undefined) return;
    let aggregate: string;
    try {
      aggregate = parseEventSubject(commit.subject).aggregate;
    } catch {
      return;
    }
    // Decided before touching the cache: most commits a reactor is delivered are of no use here.
    if (commit.previous !== 0 && follow !== undefined && aggregate !== follow) return;
    const cached = this.cache.peek(commit.subject);
    const first = commit.previous === 0 && !cached;
    if (!first && cached?.version !== commit.previous) return;
    const decider = this.deciders.get(aggregate);
    if (!decider) return;
    let state = cached ? cached.state : decider.initialState();
    try {
      for (const e of commit.events())
        state = decider.evolve(state, { type: e.type, data: e.data } as EventFromLogic<AnyStateMachine>);
    } catch {
      // Unreadable here: whoever uses the actor next reads it from the log, as without this.
      return;
    }
    this.cache.set(commit.subject, commit.sequence, state);
  }

  /**
   * Runs the command after every earlier command of this process on the same actor: an actor has one
   * mailbox. Commands racing on one actor from one process would otherwise conflict with each other
   * and retry (a busy workflow: run-now requests and job outcomes at once); only commands of other
   * processes can conflict now.
   */
  handle<M extends AnyStateMachine, C extends { readonly type: string }>(
    decider: Decider<M, C>,
    request: CommandRequest<C>,
  ): Promise<CommandResult<M>> {
    let subject: string;
    try {
      subject = eventSubject(request.userId, decider.aggregate, request.aggregateId);
    } catch (err) {
      return Promise.reject(err);
    }
    this.deciders.set(decider.aggregate, decider);
    const previous = this.mailboxes.get(subject);
    const attempt = () => withDeadline(this.decideAndAppend(decider, request, subject), subject);
    const run = previous ? previous.then(attempt, attempt) : attempt();
    const settled = run.then(
      () => {},
      () => {},
    );
    this.mailboxes.set(subject, settled);
    void settled.then(() => {
      if (this.mailboxes.get(subject) === settled) this.mailboxes.delete(subject);
    });
    return run;
  }

  private async decideAndAppend<M extends AnyStateMachine, C extends { readonly type: string }>(
    decider: Decider<M, C>,
    request: CommandRequest<C>,
    subject: string,
  ): Promise<CommandResult<M>> {
    // The subject's last sequence as a conflict reported it: the reload reads up to it directly.
    let reportedLast: number | undefined;
    // The commit's message id: the command id, so a retried command is stored at most once, unless
    // the server claimed a duplicate it never stored (see below).
    let messageId = request.commandId;
    for (let attempt = 1; ; attempt++) {
      let loaded: LoadedForDecision<M> =
        attempt === 1 && request.expectedVersion === undefined
          ? request.assumeNew && !this.cache.get(subject)
            ? { state: decider.initialState(), version: 0, exists: false, confirmed: false }
            : await this.loadForDecision(decider, subject)
          : reportedLast !== undefined
            ? { ...(await this.loadSubject(decider, subject, reportedLast)), confirmed: false }
            : { ...(await this.load(decider, request.userId, request.aggregateId)), confirmed: false };
      let decided: { readonly events: readonly EventFromLogic<M>[]; readonly next: SnapshotFrom<M> };
      try {
        decided = this.decide(decider, request, loaded);
      } catch (err) {
        if (loaded.confirmed) throw err;
        // Refused on a state that may be behind: refuse only if the leader's state refuses too.
        loaded = await this.loadConfirmed(decider, subject);
        decided = this.decide(decider, request, loaded);
      }
      if (decided.events.length === 0 && !loaded.confirmed) {
        // "Nothing to do", likewise, only on the leader's state.
        loaded = await this.loadConfirmed(decider, subject);
        decided = this.decide(decider, request, loaded);
      }
      const { state, version } = loaded;
      if (decided.events.length === 0) return { events: [], version, state };
      let index = 0;
      const trace = request.traceparent
        ? { traceparent: request.traceparent, tracestate: request.tracestate }
        : this.traceContext();
      const envelopes = toEnvelopes(
        decider.aggregate as AggregateKind,
        request.aggregateId,
        request.userId,
        decided.events as readonly EventOf<AggregateKind>[],
        {
          newId: () => deriveEventId(request.commandId, index++),
          now: this.now(),
          correlationId: request.correlationId ?? request.commandId,
          causationId: request.causationId ?? request.commandId,
          ...(trace.traceparent ? { traceparent: trace.traceparent } : {}),
          ...(trace.tracestate ? { tracestate: trace.tracestate } : {}),
          ...(request.apiKeyId ? { apiKeyId: request.apiKeyId } : {}),
        },
      ) as EventEnvelope[];
      try {
        const ack = await this.store.append(subject, envelopes, version, messageId);
        if (ack.duplicate && ack.sequence === 0) {
          // On a replicated stream (nats-server 2.10, R3) a commit refused for a wrong last sequence
          // leaves its message id in the duplicate window with no message behind it, so the same
          // command appended again on the reloaded state is answered "duplicate" at sequence 0 and
          // stored nowhere: a command acknowledged and lost (test/core/phantom-duplicate.int.test.ts).
          // It is decided again on the state as it is now and appended under another id; the
          // expected last sequence still lets only one commit in, and a decider that sees its own
          // earlier commit (an append that did land after all) decides nothing.
          this.onConflict(subject, attempt, attempt < this.maxAttempts);
          if (attempt >= this.maxAttempts) throw new ConcurrencyConflict(subject, version, undefined);
          messageId = `${request.commandId}~${attempt}`;
          reportedLast = undefined;
          continue;
        }
        if (ack.duplicate) {
          // An earlier attempt of this very command is in the log already: report the state as it is.
          const current = await this.load(decider, request.userId, request.aggregateId);
          return { events: [], version: current.version, state: current.state };
        }
        this.cache.set(subject, ack.sequence, decided.next);
        this.countAppended(decider, subject, ack.sequence, envelopes.at(-1)?.id ?? '', decided.next);
        return { events: envelopes, version: ack.sequence, state: decided.next };
      } catch (err) {
        if (!(err instanceof ConcurrencyConflict)) throw err;
        this.onConflict(subject, attempt, attempt < this.maxAttempts);
        if (attempt >= this.maxAttempts) throw err;
        reportedLast = err.currentSequence;
        // The cached snapshot stays: it is still true at its version, so the reload reads only the
        // commits appended since. Dropping it would replay the whole subject on every conflict, and a
        // busy workflow's subject grows with every job it runs. The first retry goes at once (one
        // other writer got in first, the usual case: an API and a reactor on one workflow); later
        // ones back off, for a crowd racing on one actor.
        if (attempt > 1) await sleep(Math.min(200, 5 * 2 ** attempt) * (0.5 + Math.random()));
      }
    }
  }

  private decide<M extends AnyStateMachine, C extends { readonly type: string }>(
    decider: Decider<M, C>,
    request: CommandRequest<C>,
    loaded: { state: SnapshotFrom<M>; version: number; exists: boolean },
  ): { readonly events: readonly EventFromLogic<M>[]; readonly next: SnapshotFrom<M> } {
    if (request.expectedVersion !== undefined && request.expectedVersion !== loaded.version) {
      throw new PreconditionFailedError(
        'version_mismatch',
        `The ${decider.aggregate} is at version ${loaded.version}, not ${request.expectedVersion} (If-Match)`,
        { details: { current_version: loaded.version } },
      );
    }
    return decider.decideNext(request.command, loaded.exists ? loaded.state : undefined, {
      now: this.now(),
    });
  }
}

/** An actor loaded to decide a command on; `confirmed` when it is the stream leader's state. */
type LoadedForDecision<M extends AnyStateMachine> = {
  state: SnapshotFrom<M>;
  version: number;
  exists: boolean;
  confirmed: boolean;
};

/** Reads of a replica behind the leader before a decision gives up (waits of 20 to 320 ms, ~0.6 s in all). */
const REPLICA_CATCH_UP_TRIES = 5;

/**
 * How long a command may take before it is answered 503 and its actor's mailbox moves on. Every call
 * it makes has a timeout of its own, yet under load on a 3-node cluster a few commands were seen
 * never to settle (95 of 6,000 in bench/replication-cost.ts, one run-now in the rolling restart), and
 * each stalled every later command of its actor in that process for good. Past the deadline the
 * outcome is unknown, as after any outage: the commit may still land, and the same command retried
 * appends nothing twice.
 */
export const COMMAND_DEADLINE_MS = 30_000;

function withDeadline<T>(work: Promise<T>, subject: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () =>
        reject(
          new UnavailableError(
            'command_timeout',
            `a command on ${subject} took longer than ${COMMAND_DEADLINE_MS / 1000} s; its outcome is unknown, retry it`,
          ),
        ),
      COMMAND_DEADLINE_MS,
    );
    timer.unref();
  });
  return Promise.race([work, deadline]).finally(() => clearTimeout(timer));
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
