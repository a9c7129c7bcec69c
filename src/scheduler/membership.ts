// The live scheduler replicas, in a KV bucket whose entries expire: each replica refreshes its own
// key every `heartbeatMs`; a replica that dies stops refreshing and drops out after the bucket's TTL,
// so the others take its workflows over within seconds.

import { type JetStreamManager, jetstreamManager } from '@nats-io/jetstream';
import { type KV, Kvm } from '@nats-io/kv';
import type { NatsConnection } from '@nats-io/transport-node';
import { untilLeaderAnswers } from '../infra/nats-connection.ts';

export const MEMBERSHIP_BUCKET = 'CV_SCHEDULERS';

export class SchedulerMembership {
  private kv: KV | undefined;
  private jsm: JetStreamManager | undefined;
  private timer: NodeJS.Timeout | undefined;
  private current: string[] = [];

  constructor(
    private readonly nc: NatsConnection,
    readonly memberId: string,
    private readonly options: { ttlMs: number; heartbeatMs: number; replicas?: number } = {
      ttlMs: 6000,
      heartbeatMs: 1500,
    },
  ) {}

  async join(): Promise<void> {
    this.kv = await new Kvm(this.nc).create(MEMBERSHIP_BUCKET, {
      ttl: this.options.ttlMs,
      history: 1,
      replicas: this.options.replicas ?? 1,
    });
    this.jsm = await jetstreamManager(this.nc);
    // On a cluster a bucket just created has no stream leader for a moment: the first beat is
    // retried, not fatal.
    await untilLeaderAnswers(() => this.beat());
    this.timer = setInterval(() => void this.beat().catch(() => {}), this.options.heartbeatMs);
  }

  /** The members seen at the last heartbeat (always including this one). */
  get members(): readonly string[] {
    return this.current;
  }

  private async beat(): Promise<void> {
    const kv = this.kv!;
    await kv.put(this.memberId, String(Date.now()));
    // The bucket's subjects from one stream-info request, then a direct get per key to leave out the
    // members that left (a delete marker). kv.keys() would open an ordered consumer on every beat, and
    // nats-server 2.10 kept each of those behind (one more consumer every 1.5 s per replica).
    const info = await this.jsm!.streams.info(`KV_${MEMBERSHIP_BUCKET}`, {
      subjects_filter: `$KV.${MEMBERSHIP_BUCKET}.>`,
    });
    const prefix = `$KV.${MEMBERSHIP_BUCKET}.`;
    const keys: string[] = [];
    for (const subject of Object.keys(info.state.subjects ?? {})) {
      const key = subject.slice(prefix.length);
      const entry = await kv.get(key);
      if (entry?.operation === 'PUT') keys.push(key);
    }
    if (!keys.includes(this.memberId)) keys.push(this.memberId);
    keys.sort();
    // The same array while nothing changes: users may cache per member list by identity.
    if (keys.join('\n') !== this.current.join('\n')) this.current = keys;
  }

  async leave(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    await this.kv?.delete(this.memberId).catch(() => {});
  }
}
