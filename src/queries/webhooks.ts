// Webhook subscriptions and their delivery log, read and written for their owner only (every
// statement names the user). Subscriptions are state of the API edge, as API keys are; deliveries are
// written by the projector's webhook worker (src/reactors/webhook-*.ts) and only read here.
import { ConflictError, NotFoundError } from '../errors.ts';
import type { WebhookDeliveryStatus, WebhookTable } from '../infra/database.ts';
import type { Db } from './db.ts';
import { keysetPage, newestFirst, type Page } from './paging.ts';

/** Subscriptions one user may hold. */
export const MAX_WEBHOOKS_PER_USER = 25;

export type Webhook = Omit<WebhookTable, 'secret_sealed'>;

const PUBLIC_COLUMNS = [
  'id',
  'user_id',
  'url',
  'event_types',
  'workflow_id',
  'enabled',
  'disabled_reason',
  'consecutive_failures',
  'created_at',
  'updated_at',
] as const;

const notFound = () => new NotFoundError('webhook_not_found', 'No such webhook');

export async function createWebhook(db: Db, row: WebhookTable): Promise<Webhook> {
  return db.transaction().execute(async (trx) => {
    // Serializes one user's creations, so two at once cannot both pass the count.
    await trx.selectFrom('users').select('id').where('id', '=', row.user_id).forUpdate().execute();
    const { n } = await trx
      .selectFrom('webhooks')
      .select((eb) => eb.fn.countAll<string>().as('n'))
      .where('user_id', '=', row.user_id)
      .executeTakeFirstOrThrow();
    if (Number(n) >= MAX_WEBHOOKS_PER_USER) {
      throw new ConflictError('too_many_webhooks', `A user holds at most ${MAX_WEBHOOKS_PER_USER} webhooks`);
    }
    return trx.insertInto('webhooks').values(row).returning(PUBLIC_COLUMNS).executeTakeFirstOrThrow();
  });
}

export async function listWebhooks(
  db: Db,
  userId: string,
  options: { cursor?: string | undefined; limit: number },
): Promise<Page<Webhook>> {
  const after = newestFirst.after(options.cursor);
  const rows = await db
    .selectFrom('webhooks')
    .select(PUBLIC_COLUMNS)
    .where('user_id', '=', userId)
    .$if(after !== undefined, (q) => q.where(after!))
    .orderBy('created_at', 'desc')
    .orderBy('id', 'desc')
    .limit(options.limit + 1)
    .execute();
  return keysetPage(rows, options.limit, newestFirst.key);
}

export async function getWebhook(db: Db, userId: string, id: string): Promise<Webhook> {
  const row = await db
    .selectFrom('webhooks')
    .select(PUBLIC_COLUMNS)
    .where('user_id', '=', userId)
    .where('id', '=', id)
    .executeTakeFirst();
  if (!row) throw notFound();
  return row;
}

export interface WebhookChanges {
  readonly url?: string;
  readonly event_types?: string[];
  readonly workflow_id?: string | null;
  readonly enabled?: boolean;
}

/**
 * Applies the changes. Enabling a disabled subscription starts its failure count afresh and makes its
 * pending deliveries due now (they waited, in order, while it was disabled).
 */
export async function updateWebhook(
  db: Db,
  userId: string,
  id: string,
  changes: WebhookChanges,
  now: Date,
): Promise<Webhook> {
  return db.transaction().execute(async (trx) => {
    const before = await trx
      .selectFrom('webhooks')
      .select('enabled')
      .where('user_id', '=', userId)
      .where('id', '=', id)
      .forUpdate()
      .executeTakeFirst();
    if (!before) throw notFound();
    const enabling = changes.enabled === true && !before.enabled;
    const disabling = changes.enabled === false && before.enabled;
    const row = await trx
      .updateTable('webhooks')
      .set({
        ...changes,
        ...(enabling ? { consecutive_failures: 0, disabled_reason: null } : {}),
        ...(disabling ? { disabled_reason: 'user' } : {}),
        updated_at: now,
      })
      .where('user_id', '=', userId)
      .where('id', '=', id)
      .returning(PUBLIC_COLUMNS)
      .executeTakeFirstOrThrow();
    if (enabling) {
      await trx
        .updateTable('webhook_deliveries')
        .set({ next_attempt_at: now })
        .where('webhook_id', '=', id)
        .where('status', '=', 'pending')
        .execute();
    }
    return row;
  });
}

/** Deletes the subscription and its delivery log; nothing more is sent for it. */
export async function deleteWebhook(db: Db, userId: string, id: string): Promise<void> {
  await db.transaction().execute(async (trx) => {
    const deleted = await trx
      .deleteFrom('webhooks')
      .where('user_id', '=', userId)
      .where('id', '=', id)
      .executeTakeFirst();
    if (deleted.numDeletedRows === 0n) throw notFound();
    await trx.deleteFrom('webhook_deliveries').where('webhook_id', '=', id).execute();
  });
}

export interface WebhookDelivery {
  readonly id: string;
  readonly event_id: string;
  readonly event_type: string;
  readonly workflow_id: string;
  readonly status: WebhookDeliveryStatus;
  readonly attempts: number;
  readonly last_status_code: number | null;
  readonly last_error: string | null;
  readonly next_attempt_at: Date | null;
  readonly created_at: Date;
  readonly delivered_at: Date | null;
}

/** A subscription's deliveries, newest first (the subscription's ownership checked here too). */
export async function listDeliveries(
  db: Db,
  userId: string,
  webhookId: string,
  options: { cursor?: string | undefined; limit: number; status?: WebhookDeliveryStatus | undefined },
): Promise<Page<WebhookDelivery>> {
  await getWebhook(db, userId, webhookId);
  const after = newestFirst.after(options.cursor);
  const rows = await db
    .selectFrom('webhook_deliveries')
    .select([
      'id',
      'event_id',
      'event_type',
      'workflow_id',
      'status',
      'attempts',
      'last_status_code',
      'last_error',
      'next_attempt_at',
      'created_at',
      'delivered_at',
    ])
    .where('user_id', '=', userId)
    .where('webhook_id', '=', webhookId)
    .$if(options.status !== undefined, (q) => q.where('status', '=', options.status!))
    .$if(after !== undefined, (q) => q.where(after!))
    .orderBy('created_at', 'desc')
    .orderBy('id', 'desc')
    .limit(options.limit + 1)
    .execute();
  return keysetPage(rows, options.limit, newestFirst.key);
}

/** Whether the user has this workflow (a subscription to one workflow must name one of theirs). */
export async function ownsWorkflow(db: Db, userId: string, workflowId: string): Promise<boolean> {
  const row = await db
    .selectFrom('workflows')
    .select('id')
    .where('user_id', '=', userId)
    .where('id', '=', workflowId)
    .executeTakeFirst();
  return row !== undefined;
}
