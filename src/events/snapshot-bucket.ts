// Where actor snapshots are persisted: a NATS KV bucket, one key per actor subject holding its latest
// snapshot (history 1). Beside the log, not in it: a snapshot is derived data, rewritten as the actor
// moves on, and losing the bucket costs only the long replays it saved.
import { type KV, Kvm } from '@nats-io/kv';
import type { NatsConnection } from '@nats-io/transport-node';

export const SNAPSHOTS_BUCKET = 'CV_SNAPSHOTS';

export interface StoredSnapshot {
  /** The subject sequence of the last commit folded into `state`. */
  readonly version: number;
  /** A digest of the machine that folded it (src/actors/snapshot-store.ts). */
  readonly fingerprint: string;
  /**
   * The id of the last event of the commit at `version`: a load checks it against the log, so a
   * snapshot of another history (a log restored from a backup, a stream made anew) is never used.
   */
  readonly lastEventId: string;
  /** The machine's persisted state: its value and context, plain JSON. */
  readonly state: { readonly value: unknown; readonly context: unknown };
}

/** Where snapshots are kept. A failure is the caller's to ignore: a snapshot only saves work. */
export interface SnapshotStore {
  get(subject: string): Promise<StoredSnapshot | undefined>;
  put(subject: string, snapshot: StoredSnapshot): Promise<void>;
}

export function natsSnapshotStore(nc: NatsConnection, options: { replicas?: number } = {}): SnapshotStore {
  let opened: Promise<KV> | undefined;
  const bucket = () => {
    opened ??= new Kvm(nc).create(SNAPSHOTS_BUCKET, { history: 1, replicas: options.replicas ?? 1 });
    // A failed open is tried again by the next use rather than remembered.
    opened.catch(() => {
      opened = undefined;
    });
    return opened;
  };
  return {
    async get(subject) {
      const entry = await (await bucket()).get(subject);
      if (entry?.operation !== 'PUT' || entry.length === 0) return undefined;
      return entry.json<StoredSnapshot>();
    },
    async put(subject, snapshot) {
      await (await bucket()).put(subject, JSON.stringify(snapshot));
    },
  };
}
