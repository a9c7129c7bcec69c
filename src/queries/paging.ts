// Keyset paging, the one way every growing list of the API is paged: a page is `limit` rows read as
// `limit + 1` (the extra row only says that another page exists), and its cursor is the sort key of
// its last row, opaque to clients (base64url JSON). The one cursor codec: a cursor decodes only to
// the shape its list expects, with every part checked before it can reach a store (instants that
// PostgreSQL and JavaScript both hold, strings without NUL, unsigned safe integers); anything else is
// a 422 `invalid_cursor` naming `cursor`, never a 500.
import { type RawBuilder, sql } from 'kysely';
import { ValidationError } from '../errors.ts';

export type CursorKey = readonly (string | number | boolean)[];

/** What one part of a cursor holds: an instant, an id or other text, an unsigned integer, a flag. */
export type CursorPart = 'date' | 'string' | 'uint' | 'boolean';

type Decoded<T extends readonly CursorPart[]> = {
  [K in keyof T]: T[K] extends 'uint'
    ? number
    : T[K] extends 'boolean'
      ? boolean
      : T[K] extends 'date'
        ? Date
        : string;
};

/** One page of a list: the rows, and the cursor of the next page (null on the last). */
export interface Page<T> {
  readonly items: T[];
  readonly next_cursor: string | null;
}

/**
 * The instants a cursor may hold: from 4713 BC (PostgreSQL's earliest timestamptz, with a margin of
 * a year) to 275760 AD (JavaScript's latest Date, earlier than PostgreSQL's latest).
 */
export const EARLIEST_CURSOR_INSTANT_MS = Date.parse('-004712-01-01T00:00:00.000Z');
export const LATEST_CURSOR_INSTANT_MS = 8.64e15;
/** Longer text than any sort key of this API holds (ids are UUIDs). */
const MAX_CURSOR_STRING = 256;

export function encodeCursor(key: CursorKey): string {
  return Buffer.from(JSON.stringify(key)).toString('base64url');
}

export function invalidCursor(): ValidationError {
  return new ValidationError('invalid_cursor', 'cursor is not one this API gave out', { field: 'cursor' });
}

/** Text a store can hold: no NUL (PostgreSQL refuses it in text and jsonb). */
export function hasNul(text: string): boolean {
  return text.includes('\u0000');
}

function decodePart(kind: CursorPart, v: unknown): string | number | boolean | Date | undefined {
  switch (kind) {
    case 'date': {
      // Only the form this API writes (Date.toISOString), so the round trip is exact.
      if (typeof v !== 'string') return undefined;
      const ms = Date.parse(v);
      if (!(ms >= EARLIEST_CURSOR_INSTANT_MS && ms <= LATEST_CURSOR_INSTANT_MS)) return undefined;
      const at = new Date(ms);
      return at.toISOString() === v ? at : undefined;
    }
    case 'string':
      return typeof v === 'string' && v.length <= MAX_CURSOR_STRING && !hasNul(v) ? v : undefined;
    case 'uint':
      return typeof v === 'number' && Number.isSafeInteger(v) && v >= 0 ? v : undefined;
    case 'boolean':
      return typeof v === 'boolean' ? v : undefined;
  }
}

/** The sort key a cursor holds, of exactly the given shape; `invalid_cursor` otherwise. */
export function decodeCursor<const T extends readonly CursorPart[]>(cursor: string, shape: T): Decoded<T> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    throw invalidCursor();
  }
  if (!Array.isArray(parsed) || parsed.length !== shape.length) throw invalidCursor();
  return shape.map((kind, i) => {
    const value = decodePart(kind, parsed[i]);
    if (value === undefined) throw invalidCursor();
    return value;
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
