// The live scheduler replicas, in a KV bucket whose entries expire: each replica refreshes its own
// key every `heartbeatMs`; a replica that dies stops refreshing and drops out after the bucket's TTL,
// so the others take its workflows over within seconds.
import { type KV, Kvm } from '@nats-io/kv';
import type { NatsConnection } from '@nats-io/transport-node';

export const MEMBERSHIP_BUCKET = 'CV_SCHEDULERS';

export class SchedulerMembership {
  private kv: KV | undefined;
  private timer: NodeJS.Timeout | undefined;
  private current: string[] = [];

  constructor(
    private readonly nc: NatsConnection,
    readonly memberId: string,
    private readonly options: { ttlMs: number; heartbeatMs: number } = { ttlMs: 6000, heartbeatMs: 1500 },
  ) {}

  async join(): Promise<void> {
    this.kv = await new Kvm(this.nc).create(MEMBERSHIP_BUCKET, { ttl: this.options.ttlMs, history: 1 });
    await this.beat();
    this.timer = setInterval(() => void this.beat().catch(() => {}), this.options.heartbeatMs);
  }

  /** The members seen at the last heartbeat (always including this one). */
  get members(): readonly string[] {
    return this.current;
  }

  private async beat(): Promise<void> {
    const kv = this.kv!;
    await kv.put(this.memberId, String(Date.now()));
    const keys: string[] = [];
    for await (const k of await kv.keys()) keys.push(k);
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
