// Sessions ended before their access tokens expire (logout, a reused refresh token): a NATS KV bucket
// keyed by session id (the refresh-token family every access token of a session names in its `sid`
// claim), each entry kept until no token of that session can still be valid. Every API process
// watches the bucket into a local map, so checking a token is a map lookup, not a network trip; a
// session this process ends is refused here at once, and by the other processes as soon as the watch
// delivers the entry (milliseconds). A process that starts loads the bucket before it serves.
import { jetstreamManager } from '@nats-io/jetstream';
import { type KV, Kvm, type KvWatchEntry } from '@nats-io/kv';
import type { NatsConnection, QueuedIterator } from '@nats-io/transport-node';

export const REVOKED_SESSIONS_BUCKET = 'CV_REVOKED_SESSIONS';
/** Tokens are checked against the clock of another process; an entry outlives them by this much. */
const CLOCK_SKEW_MS = 60_000;
/** How long a start waits for the bucket's entries before it serves without them (logged). */
const LOAD_TIMEOUT_MS = 10_000;

export interface SessionRevocationsOptions {
  /** The access tokens' lifetime: an ended session's entry is kept at least this long. */
  readonly accessTokenTtlSeconds: number;
  readonly now?: () => Date;
  /** Told when the watch stops and restarts, or a start serves before the bucket is loaded. */
  readonly onWarning?: (message: string, error?: unknown) => void;
  /** Replicas of the bucket when it is created (an existing bucket keeps its own). */
  readonly replicas?: number;
}

export class SessionRevocations {
  /** Session id → until when (ms) its tokens must be refused. */
  private readonly ended = new Map<string, number>();
  private prunedAtSize = 0;
  private watcher: QueuedIterator<KvWatchEntry> | undefined;
  private closed = false;
  private lastRevision = 0;
  private readonly keepMs: number;
  private readonly now: () => Date;

  private constructor(
    private readonly nc: NatsConnection,
    private readonly kv: KV,
    private readonly options: SessionRevocationsOptions,
  ) {
    this.keepMs = options.accessTokenTtlSeconds * 1000 + CLOCK_SKEW_MS;
    this.now = options.now ?? (() => new Date());
  }

  /** Opens (creating if missing) the bucket, loads its entries and keeps watching it. */
  static async open(nc: NatsConnection, options: SessionRevocationsOptions): Promise<SessionRevocations> {
    const keepMs = options.accessTokenTtlSeconds * 1000 + CLOCK_SKEW_MS;
    const kvm = new Kvm(nc);
    const kv = await kvm.create(REVOKED_SESSIONS_BUCKET, {
      ttl: keepMs,
      history: 1,
      replicas: options.replicas ?? 1,
    });
    // An existing bucket keeps the TTL it was created with: lengthen it when tokens now live longer.
    const status = await kv.status();
    const info = status.streamInfo;
    if (info.config.max_age !== 0 && info.config.max_age < keepMs * 1_000_000) {
      const jsm = await jetstreamManager(nc);
      await jsm.streams.update(info.config.name, { ...info.config, max_age: keepMs * 1_000_000 });
    }
    const revocations = new SessionRevocations(nc, kv, options);
    await revocations.load(info.state.messages === 0 ? 0 : info.state.last_seq);
    return revocations;
  }

  /** Whether tokens of this session must be refused. */
  isEnded(sessionId: string): boolean {
    const until = this.ended.get(sessionId);
    if (until === undefined) return false;
    if (until > this.now().getTime()) return true;
    this.ended.delete(sessionId);
    return false;
  }

  /** Ends the session: refused here at once, and by every process watching once the entry is stored. */
  async end(sessionId: string): Promise<void> {
    const until = this.now().getTime() + this.keepMs;
    this.remember(sessionId, until);
    await this.kv.put(sessionId, JSON.stringify({ until }));
  }

  async close(): Promise<void> {
    this.closed = true;
    this.watcher?.stop();
  }

  /** Sessions this process knows ended (tests). */
  get size(): number {
    return this.ended.size;
  }

  private remember(sessionId: string, until: number): void {
    const known = this.ended.get(sessionId) ?? 0;
    this.ended.set(sessionId, Math.max(known, until));
    // Entries of sessions whose tokens have all expired are dropped once the map has doubled.
    if (this.ended.size > Math.max(1000, 2 * this.prunedAtSize)) {
      const t = this.now().getTime();
      for (const [id, u] of this.ended) if (u <= t) this.ended.delete(id);
      this.prunedAtSize = this.ended.size;
    }
  }

  private apply(entry: KvWatchEntry): void {
    this.lastRevision = Math.max(this.lastRevision, entry.revision);
    if (entry.operation !== 'PUT') return;
    try {
      const { until } = entry.json<{ until: number }>();
      if (typeof until === 'number') this.remember(entry.key, until);
    } catch (err) {
      this.options.onWarning?.(`unreadable entry ${entry.key} in ${REVOKED_SESSIONS_BUCKET}`, err);
    }
  }

  /** Starts the watch and waits (bounded) until it has delivered the entry at `lastSeq`. */
  private async load(lastSeq: number): Promise<void> {
    let loaded!: () => void;
    const done = new Promise<void>((resolve) => (loaded = resolve));
    if (lastSeq === 0) loaded();
    void this.watch(() => {
      if (this.lastRevision >= lastSeq) loaded();
    });
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<'timeout'>((resolve) => {
      timer = setTimeout(() => resolve('timeout'), LOAD_TIMEOUT_MS);
    });
    const outcome = await Promise.race([done, timeout]);
    clearTimeout(timer);
    if (outcome === 'timeout')
      this.options.onWarning?.(`serving before ${REVOKED_SESSIONS_BUCKET} was loaded; the watch goes on`);
  }

  /** Watches the bucket until closed; restarts after the last revision seen when the watch ends. */
  private async watch(onEntry: () => void): Promise<void> {
    while (!this.closed && !this.nc.isClosed()) {
      try {
        this.watcher = await this.kv.watch(
          this.lastRevision > 0 ? { resumeFromRevision: this.lastRevision + 1 } : {},
        );
        for await (const entry of this.watcher) {
          this.apply(entry);
          onEntry();
        }
      } catch (err) {
        if (!this.closed && !this.nc.isClosed())
          this.options.onWarning?.(`the watch of ${REVOKED_SESSIONS_BUCKET} failed; restarting`, err);
      }
      if (!this.closed && !this.nc.isClosed()) await new Promise((r) => setTimeout(r, 500));
    }
  }
}
