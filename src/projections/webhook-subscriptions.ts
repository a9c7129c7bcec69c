// The enabled webhook subscriptions as the intake sees them: one snapshot of the table, read at most
// every `minIntervalMs`, instead of a query per event (the intake reads every workflow and job event
// of every user). A snapshot read at instant L holds every subscription created before L, and one
// created later wants no event that occurred before L (a subscription receives the events that occur
// after its creation), so it answers exactly for every event that occurred before L; an event that
// occurred at or after L waits for the next read. A change of `enabled` is seen within the interval.
import type { Kysely } from 'kysely';
import type { Database } from '../infra/database.ts';

export interface Subscription {
  readonly id: string;
  readonly userId: string;
  readonly eventTypes: ReadonlySet<string>;
  readonly workflowId: string | null;
  readonly createdAt: Date;
}

export interface SubscriptionSnapshot {
  readonly readAt: Date;
  readonly byUser: ReadonlyMap<string, readonly Subscription[]>;
}

/** The subscriptions owed an event: its user's, of its type, created by then, for its workflow or all. Pure. */
export function subscriptionsOwed(
  snapshot: SubscriptionSnapshot,
  event: { readonly userId: string; readonly type: string; readonly occurredAt: string },
  workflowId: string,
): Subscription[] {
  const at = Date.parse(event.occurredAt);
  return (snapshot.byUser.get(event.userId) ?? []).filter(
    (s) =>
      s.eventTypes.has(event.type) &&
      s.createdAt.getTime() <= at &&
      (s.workflowId === null || s.workflowId === workflowId),
  );
}

/** Whether the snapshot answers for an event that occurred at `occurredAt` (it was read after it). */
export function answersFor(snapshot: SubscriptionSnapshot | undefined, occurredAt: string): boolean {
  return snapshot !== undefined && snapshot.readAt.getTime() > Date.parse(occurredAt);
}

export class WebhookSubscriptions {
  private snapshot: SubscriptionSnapshot | undefined;
  private reading: Promise<SubscriptionSnapshot> | undefined;
  private lastReadMs = 0;

  constructor(
    private readonly db: Kysely<Database>,
    private readonly now: () => Date,
    private readonly minIntervalMs = 200,
  ) {}

  /** A snapshot that answers for an event that occurred at `occurredAt` (read again if need be). */
  async for(occurredAt: string): Promise<SubscriptionSnapshot> {
    while (!answersFor(this.snapshot, occurredAt)) this.snapshot = await this.read();
    return this.snapshot!;
  }

  private read(): Promise<SubscriptionSnapshot> {
    this.reading ??= (async () => {
      const wait = this.lastReadMs + this.minIntervalMs - this.now().getTime();
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
      const readAt = this.now();
      this.lastReadMs = readAt.getTime();
      const rows = await this.db
        .selectFrom('webhooks')
        .select(['id', 'user_id', 'event_types', 'workflow_id', 'created_at'])
        .where('enabled', '=', true)
        .execute();
      const byUser = new Map<string, Subscription[]>();
      for (const r of rows) {
        const list = byUser.get(r.user_id) ?? [];
        list.push({
          id: r.id,
          userId: r.user_id,
          eventTypes: new Set(r.event_types),
          workflowId: r.workflow_id,
          createdAt: r.created_at,
        });
        byUser.set(r.user_id, list);
      }
      return { readAt, byUser };
    })().finally(() => {
      this.reading = undefined;
    });
    return this.reading;
  }
}
