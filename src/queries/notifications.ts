// The caller's notifications, unread first and then newest, paged by (is read, created_at, id).
import { sql } from 'kysely';
import type { Db } from './db.ts';
import { decodeCursor, keysetPage, type Page } from './paging.ts';

export interface NotificationFilter {
  /** Only unread notifications. */
  readonly unread?: boolean | undefined;
  readonly cursor?: string | undefined;
  readonly limit: number;
}

export async function listNotifications(db: Db, userId: string, f: NotificationFilter) {
  const isRead = sql<boolean>`(read_at is not null)`;
  let query = db
    .selectFrom('notifications')
    .select([
      'id',
      'kind',
      'title',
      'message',
      'entity_id',
      'entity_type',
      'action_url',
      'read_at',
      'created_at',
    ])
    .where('user_id', '=', userId);
  if (f.unread) query = query.where('read_at', 'is', null);
  if (f.cursor) {
    const [read, at, id] = decodeCursor(f.cursor, ['boolean', 'date', 'string']);
    // The order is (is read ascending, created_at descending, id descending): the rows after the
    // cursor are those of a later half, or of the same half and older. One row comparison cannot
    // say that (its directions differ), so the halves are compared apart.
    query = query.where(
      sql<boolean>`(${isRead} > ${read} or (${isRead} = ${read} and (created_at, id) < (${at}::timestamptz, ${id})))`.$castTo<boolean>(),
    );
  }
  const rows = await query
    .orderBy(isRead)
    .orderBy('created_at', 'desc')
    .orderBy('id', 'desc')
    .limit(f.limit + 1)
    .execute();
  return keysetPage(rows, f.limit, (n) => [n.read_at !== null, n.created_at.toISOString(), n.id]);
}

export type NotificationListRow =
  Awaited<ReturnType<typeof listNotifications>> extends Page<infer R> ? R : never;
