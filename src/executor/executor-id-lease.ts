// One live executor per id in an installation. The id is on every container an executor runs, and a
// starting executor removes the running containers carrying its id as what its dead predecessor left
// (src/executor/recovery.ts): a second executor started with the same id (two of a pool on one host,
// both on the default `<hostname>-<pool>`) would remove the first one's live containers, and their
// jobs would fail. So an executor holds its id in a KV bucket whose entries lapse, refreshes it while
// it lives, and refuses to start while a live one holds it.
import { readFileSync, readlinkSync } from 'node:fs';
import { hostname } from 'node:os';
import { JetStreamApiCodes, JetStreamApiError } from '@nats-io/jetstream';
import { type KV, Kvm } from '@nats-io/kv';
import type { NatsConnection } from '@nats-io/transport-node';
import { ConfigError } from '../config/config.ts';
import { untilLeaderAnswers } from '../infra/nats-connection.ts';
import type { Logger } from '../telemetry/logger.ts';

export const EXECUTOR_BUCKET = 'CV_EXECUTORS';

/** Who holds an id: enough to tell a dead predecessor on this host from a live executor elsewhere. */
interface Holder {
  readonly host: string;
  readonly pid: number;
  readonly since: string;
  /**
   * The kernel's boot and the pid namespace the pid is in (Linux): only a holder that shares both
   * can be looked up by its pid. A hostname does not tell: two containers on the host network share
   * it, each with a pid namespace of its own where the other's pids mean nothing.
   */
  readonly pidSpace?: string;
}

export interface ExecutorIdLeaseOptions {
  /** An entry not refreshed for this long lapses (a killed executor's, with no one to delete it). */
  readonly ttlMs: number;
  readonly refreshMs: number;
  readonly replicas?: number;
  /** This process, as the entry names it. */
  readonly holder?: Holder;
}

const DEFAULTS: ExecutorIdLeaseOptions = { ttlMs: 10_000, refreshMs: 2000 };

export class ExecutorIdLease {
  private kv: KV | undefined;
  private revision = 0;
  private timer: NodeJS.Timeout | undefined;
  private refreshing: Promise<void> = Promise.resolve();
  private released = false;
  private readonly me: Holder;
  private readonly options: ExecutorIdLeaseOptions;

  constructor(
    private readonly nc: NatsConnection,
    readonly executorId: string,
    private readonly log: Logger,
    options: Partial<ExecutorIdLeaseOptions> = {},
  ) {
    this.options = { ...DEFAULTS, ...options };
    this.me = options.holder ?? {
      host: hostname(),
      pid: process.pid,
      since: new Date().toISOString(),
      pidSpace: thisPidSpace(),
    };
  }

  /**
   * Takes the id, waiting out an entry that lapses (a predecessor killed elsewhere, or in a container
   * since restarted); one whose pid this process can look up and finds gone is taken over at once.
   * A holder that refreshes meanwhile is alive: ConfigError, naming it.
   */
  async acquire(): Promise<void> {
    const kv = await untilLeaderAnswers(() =>
      new Kvm(this.nc).create(EXECUTOR_BUCKET, {
        ttl: this.options.ttlMs,
        history: 1,
        replicas: this.options.replicas ?? 1,
      }),
    );
    this.kv = kv;
    const value = JSON.stringify(this.me);
    // The server removes a lapsed entry on a timer of its own, some time after its age passes.
    const deadline =
      Date.now() + this.options.ttlMs + Math.max(this.options.ttlMs, 5000) + this.options.refreshMs;
    let seen: number | undefined;
    for (;;) {
      const taken = await untilLeaderAnswers(() => tryTake(() => kv.create(this.executorId, value)));
      if (taken !== 'taken') {
        this.revision = taken;
        break;
      }
      const read = await untilLeaderAnswers(() => kv.get(this.executorId));
      // A delete marker (released) or nothing (lapsed): the next create takes it.
      const entry = read?.operation === 'PUT' ? read : undefined;
      const holder = entry ? parseHolder(entry.string()) : undefined;
      if (entry && holder && this.isGone(holder)) {
        const revision = await untilLeaderAnswers(() =>
          tryTake(() => kv.update(this.executorId, value, entry.revision)),
        );
        if (revision !== 'taken') {
          this.revision = revision;
          this.log.warn('took over the executor id from a process of this machine that is gone', {
            executor_id: this.executorId,
            previous_pid: holder.pid,
          });
          break;
        }
      }
      // A replica may still show an entry the leader has let lapse, or the reverse: wait either way.
      if (entry && seen !== undefined && entry.revision !== seen)
        throw this.inUse(holder, 'it refreshes its entry');
      if (Date.now() > deadline) throw this.inUse(holder, 'its entry neither lapsed nor was released');
      if (entry) seen = entry.revision;
      await sleep(Math.min(500, this.options.refreshMs));
    }
    this.scheduleRefresh();
  }

  async release(): Promise<void> {
    this.released = true;
    if (this.timer) clearTimeout(this.timer);
    await this.refreshing;
    // Only its own entry: one that lapsed and was taken since belongs to the taker.
    if (this.revision) await this.kv?.delete(this.executorId, { previousSeq: this.revision }).catch(() => {});
  }

  private inUse(holder: Holder | undefined, why: string): ConfigError {
    const who = holder ? `host ${holder.host}, pid ${holder.pid}, since ${holder.since}` : 'unknown holder';
    return new ConfigError([
      {
        variable: 'CV_EXECUTOR_ID',
        message: `an executor with id "${this.executorId}" is running already (${who}; ${why}); every executor of an installation needs an id of its own`,
      },
    ]);
  }

  /** One refresh at a time: overlapping ones would refuse each other as a takeover. */
  private scheduleRefresh(): void {
    if (this.released) return;
    this.timer = setTimeout(() => {
      this.refreshing = this.refresh().finally(() => this.scheduleRefresh());
    }, this.options.refreshMs);
  }

  private async refresh(): Promise<void> {
    const kv = this.kv;
    if (!kv || this.released) return;
    const value = JSON.stringify(this.me);
    try {
      this.revision = await kv.update(this.executorId, value, this.revision);
      return;
    } catch (err) {
      if (!isTaken(err)) return; // an outage: the next refresh tries again
    }
    try {
      // An update the server applied and whose answer was lost leaves our own value one revision on.
      const entry = await kv.get(this.executorId);
      if (entry?.operation === 'PUT' && entry.string() === value) {
        this.revision = entry.revision;
        return;
      }
      // The entry lapsed (NATS unreachable longer than the TTL): take it again if no one else has.
      const taken = await tryTake(() => kv.create(this.executorId, value));
      if (taken !== 'taken') {
        this.revision = taken;
        return;
      }
      this.log.error('another executor took this executor id while this one ran', {
        executor_id: this.executorId,
      });
    } catch {
      // An outage: the next refresh tries again.
    }
  }

  private isGone(holder: Holder): boolean {
    if (!holder.pidSpace || holder.pidSpace !== this.me.pidSpace) return false;
    // Our own pid in our own pid space: a predecessor that had it is gone.
    if (holder.pid === this.me.pid) return true;
    try {
      process.kill(holder.pid, 0);
      return false;
    } catch (err) {
      return (err as NodeJS.ErrnoException).code === 'ESRCH';
    }
  }
}

/** This kernel boot and pid namespace, or undefined where /proc does not say (not Linux). */
export function thisPidSpace(): string | undefined {
  try {
    const boot = readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim();
    return `${boot}/${readlinkSync('/proc/self/ns/pid')}`;
  } catch {
    return undefined;
  }
}

/** The new revision, or 'taken' where the write was refused for a revision someone else wrote. */
async function tryTake(write: () => Promise<number>): Promise<number | 'taken'> {
  try {
    return await write();
  } catch (err) {
    if (isTaken(err)) return 'taken';
    throw err;
  }
}

function isTaken(err: unknown): boolean {
  return (
    err instanceof JetStreamApiError &&
    (err.code === JetStreamApiCodes.StreamWrongLastSequence ||
      err.code === JetStreamApiCodes.StreamWrongLastSequenceUnknown)
  );
}

function parseHolder(text: string): Holder | undefined {
  try {
    const h = JSON.parse(text) as Partial<Holder>;
    return typeof h.host === 'string' && typeof h.pid === 'number' ? (h as Holder) : undefined;
  } catch {
    return undefined;
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
