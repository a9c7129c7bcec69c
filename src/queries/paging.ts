// Keyset paging, the one way every growing list of the API is paged: a page is `limit` rows read as
// `limit + 1` (the extra row only says that another page exists), and its cursor is the sort key of
// its last row, opaque to clients (base64url JSON). A cursor that does not decode to the expected
// shape is a 422 naming `cursor`, never a 500.
import { type RawBuilder, sql } from 'kysely';
import { ValidationError } from '../errors.ts';

export type CursorKey = readonly (string | number | boolean)[];

/** One page of a list: the rows, and the cursor of the next page (null on the last). */
export interface Page<T> {
  readonly items: T[];
  readonly next_cursor: string | null;
}

export function encodeCursor(key: CursorKey): string {
  return Buffer.from(JSON.stringify(key)).toString('base64url');
}

export function invalidCursor(): ValidationError {
  return new ValidationError('invalid_cursor', 'cursor is not one this API gave out', { field: 'cursor' });
}

export function decodeCursor<const T extends readonly ('string' | 'number' | 'boolean' | 'date')[]>(
  cursor: string,
  shape: T,
): {
  [K in keyof T]: T[K] extends 'number'
    ? number
    : T[K] extends 'boolean'
      ? boolean
      : T[K] extends 'date'
        ? Date
        : string;
} {
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    throw invalidCursor();
  }
  if (!Array.isArray(parsed) || parsed.length !== shape.length) throw invalidCursor();
  return parsed.map((v, i) => {
    const kind = shape[i];
    if (kind === 'date') {
      if (typeof v !== 'string' || Number.isNaN(Date.parse(v))) throw invalidCursor();
      return new Date(v);
    }
    if (typeof v !== kind) throw invalidCursor();
    return v;
  }) as never;
}

/** One page from up to `limit + 1` rows read in page order; `keyOf` gives the sort key of a row. */
export function keysetPage<R>(rows: readonly R[], limit: number, keyOf: (row: R) => CursorKey): Page<R> {
  const items = rows.slice(0, limit);
  const last = items.at(-1);
  return { items, next_cursor: rows.length > limit && last ? encodeCursor(keyOf(last)) : null };
}

/** The same page with every item converted (e.g. a row to its JSON). */
export function mapPage<R, J>(page: Page<R>, convert: (row: R) => J): Page<J> {
  return { items: page.items.map(convert), next_cursor: page.next_cursor };
}

/** Newest-first keyset paging on (created_at, id), the order of most lists of this API. */
export const newestFirst = {
  /** The condition for rows after the cursor's row. */
  after(cursor: string | undefined): RawBuilder<boolean> | undefined {
    if (!cursor) return undefined;
    const [at, id] = decodeCursor(cursor, ['date', 'string']);
    return sql<boolean>`(created_at, id) < (${at}, ${id})`;
  },
  /** The sort key of a row. */
  key(row: { created_at: Date; id: string }): CursorKey {
    return [row.created_at.toISOString(), row.id];
  },
};
