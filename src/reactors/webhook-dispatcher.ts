// Webhook delivery: every poll, the head of each (subscription, workflow) queue of pending deliveries
// is read, and those due (webhook-retry.ts) are claimed, signed and sent; the outcome is written back
// (delivered, tried again later with backoff, or given up past the max age), and a subscription whose
// attempts failed too often in a row is disabled and its user notified. Crash safety: a delivery is a
// row before it is ever sent (src/projections/webhook-intake.ts), a claim moves its next attempt a lease ahead, so a
// process killed mid-send leaves the row to be sent again once the lease ends (the receiver
// deduplicates by the event id), and two workers never send the same delivery at once.
import { type Kysely, sql } from 'kysely';
import { nameBasedUuid } from '../events/name-based-id.ts';
import type { Database } from '../infra/database.ts';
import type { SecretBox } from '../infra/secret-box.ts';
import type { Logger } from '../telemetry/logger.ts';
import {
  type AttemptResult,
  afterAttempt,
  dueHeads,
  subscriptionAfterAttempt,
  type WebhookRetrySettings,
} from './webhook-retry.ts';
import type { WebhookPost } from './webhook-sender.ts';
import {
  DELIVERY_ID_HEADER,
  EVENT_ID_HEADER,
  EVENT_TYPE_HEADER,
  SIGNATURE_HEADER,
  signatureHeader,
} from './webhook-signature.ts';

export interface WebhookDispatcherSettings extends WebhookRetrySettings {
  readonly pollMs: number;
  readonly timeoutMs: number;
  /** Deliveries in flight at once, over all subscriptions. */
  readonly parallel: number;
}

export interface WebhookDispatcherDeps {
  readonly db: Kysely<Database>;
  /** The stream sequence up to which every commit's deliveries are recorded (the intake's checkpoint). */
  readonly watermark: () => Promise<number>;
  readonly send: (post: WebhookPost) => Promise<AttemptResult>;
  readonly secrets: Pick<SecretBox, 'open'>;
  readonly settings: WebhookDispatcherSettings;
  readonly now: () => Date;
  readonly log: Logger;
}

interface Head {
  readonly id: string;
  readonly sequence: number;
  readonly nextAttemptAt: Date;
  readonly webhookId: string;
  readonly userId: string;
  readonly eventId: string;
  readonly eventType: string;
  readonly body: string;
  readonly createdAt: Date;
  readonly url: string;
  readonly secretSealed: string;
}

async function pendingHeads(db: Kysely<Database>): Promise<Head[]> {
  const { rows } = await sql<{
    id: string;
    sequence: string;
    next_attempt_at: Date;
    webhook_id: string;
    user_id: string;
    event_id: string;
    event_type: string;
    body: string;
    created_at: Date;
    url: string;
    secret_sealed: string;
  }>`
    select h.id, h.sequence, h.next_attempt_at, h.webhook_id, h.user_id, h.event_id, h.event_type, h.body,
           h.created_at, w.url, w.secret_sealed
    from (
      select distinct on (webhook_id, workflow_id) *
      from webhook_deliveries
      where status = 'pending'
      order by webhook_id, workflow_id, sequence, serial
    ) h
    join webhooks w on w.id = h.webhook_id and w.enabled
  `.execute(db);
  return rows.map((r) => ({
    id: r.id,
    sequence: Number(r.sequence),
    nextAttemptAt: r.next_attempt_at,
    webhookId: r.webhook_id,
    userId: r.user_id,
    eventId: r.event_id,
    eventType: r.event_type,
    body: r.body,
    createdAt: r.created_at,
    url: r.url,
    secretSealed: r.secret_sealed,
  }));
}

export class WebhookDispatcher {
  private timer: NodeJS.Timeout | undefined;
  private stopping = false;
  private polling: Promise<void> | undefined;
  private readonly inFlight = new Map<string, Promise<void>>();

  constructor(private readonly deps: WebhookDispatcherDeps) {}

  start(): void {
    this.schedule();
  }

  private schedule(): void {
    if (this.stopping) return;
    this.timer = setTimeout(() => {
      this.polling = this.poll()
        .catch((err: unknown) => this.deps.log.warn('webhook poll failed; will retry', { error: err }))
        .finally(() => this.schedule());
    }, this.deps.settings.pollMs);
  }

  /** One round: the due queue heads, each claimed and sent (not awaited: a slow receiver holds no other). */
  async poll(): Promise<void> {
    const room = this.deps.settings.parallel - this.inFlight.size;
    if (room <= 0) return;
    const watermark = await this.deps.watermark();
    const heads = (await pendingHeads(this.deps.db)).filter((h) => !this.inFlight.has(h.id));
    for (const head of dueHeads(heads, this.deps.now(), watermark, room)) {
      const attempt = this.attempt(head)
        .catch((err: unknown) =>
          this.deps.log.warn('webhook delivery not recorded; it will be sent again', {
            delivery_id: head.id,
            error: err,
          }),
        )
        .finally(() => this.inFlight.delete(head.id));
      this.inFlight.set(head.id, attempt);
    }
  }

  private async attempt(head: Head): Promise<void> {
    const { db, settings, now } = this.deps;
    const leaseEnd = new Date(now().getTime() + settings.timeoutMs + 5000);
    const claimed = await db
      .updateTable('webhook_deliveries')
      .set((eb) => ({ attempts: eb('attempts', '+', 1), next_attempt_at: leaseEnd }))
      .where('id', '=', head.id)
      .where('status', '=', 'pending')
      .where('next_attempt_at', '=', head.nextAttemptAt)
      .returning('attempts')
      .executeTakeFirst();
    if (!claimed) return; // another worker has it, or it changed since the read
    let secret: string;
    try {
      secret = this.deps.secrets.open(head.secretSealed);
    } catch {
      // Nothing is sent unsigned: the attempt fails (and counts towards disabling) until the key is back.
      const error = 'the signing secret cannot be opened by this process (CV_SECRETS_KEYS)';
      await this.record(head, claimed.attempts, { ok: false, error });
      return;
    }
    const result = await this.deps.send({
      url: head.url,
      body: head.body,
      headers: {
        'content-type': 'application/json',
        'user-agent': 'Chronoverse-Webhooks/1',
        [EVENT_ID_HEADER]: head.eventId,
        [EVENT_TYPE_HEADER]: head.eventType,
        [DELIVERY_ID_HEADER]: head.id,
        [SIGNATURE_HEADER]: signatureHeader(secret, now(), head.body),
      },
    });
    await this.record(head, claimed.attempts, result);
  }

  private async record(head: Head, attempts: number, result: AttemptResult): Promise<void> {
    const { settings } = this.deps;
    const at = this.deps.now();
    const outcome = afterAttempt({ createdAt: head.createdAt, attempts }, result, at, settings);
    await this.deps.db.transaction().execute(async (trx) => {
      await trx
        .updateTable('webhook_deliveries')
        .set({
          status: outcome.status,
          last_status_code: result.status ?? null,
          last_error: result.ok ? null : result.error,
          next_attempt_at: outcome.status === 'pending' ? outcome.nextAttemptAt : null,
          delivered_at: outcome.status === 'delivered' ? at : null,
        })
        .where('id', '=', head.id)
        .execute();
      const webhook = await trx
        .selectFrom('webhooks')
        .select(['consecutive_failures', 'enabled', 'url'])
        .where('id', '=', head.webhookId)
        .forUpdate()
        .executeTakeFirst();
      if (!webhook?.enabled) return;
      const next = subscriptionAfterAttempt(webhook.consecutive_failures, result.ok, settings);
      if (next.consecutiveFailures === webhook.consecutive_failures && !next.disable) return;
      await trx
        .updateTable('webhooks')
        .set({
          consecutive_failures: next.consecutiveFailures,
          ...(next.disable
            ? { enabled: false, disabled_reason: 'consecutive_failures', updated_at: at }
            : {}),
        })
        .where('id', '=', head.webhookId)
        .execute();
      if (next.disable) await notifyDisabled(trx, head, webhook.url, next.consecutiveFailures, at);
    });
    if (outcome.status !== 'delivered') {
      this.deps.log.debug('webhook delivery failed', {
        delivery_id: head.id,
        webhook_id: head.webhookId,
        attempts,
        outcome: outcome.status,
        error: result.ok ? undefined : result.error,
      });
    }
  }

  async stop(): Promise<void> {
    this.stopping = true;
    clearTimeout(this.timer);
    await this.polling;
    await Promise.all(this.inFlight.values());
  }
}

/** The user's alert (a notification row, as the read models write them) that a subscription was disabled. */
async function notifyDisabled(
  trx: Kysely<Database>,
  head: Head,
  url: string,
  failures: number,
  at: Date,
): Promise<void> {
  const user = await trx
    .selectFrom('users')
    .select('notification_preference')
    .where('id', '=', head.userId)
    .executeTakeFirst();
  if (user?.notification_preference === 'NONE') return;
  await trx
    .insertInto('notifications')
    .values({
      id: nameBasedUuid(`webhook-disabled\n${head.webhookId}\n${at.toISOString()}`),
      user_id: head.userId,
      kind: 'WEB_ALERT',
      title: 'Webhook disabled',
      message: `The webhook to ${url} was disabled after ${failures} failed deliveries in a row; enable it again with PATCH /webhooks/${head.webhookId} {"enabled": true}.`,
      entity_id: head.webhookId,
      entity_type: 'WEBHOOK',
      action_url: `/webhooks/${head.webhookId}`,
      read_at: null,
      created_at: at,
    })
    .onConflict((c) => c.column('id').doNothing())
    .execute();
}
