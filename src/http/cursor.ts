// Opaque keyset cursors: the sort key of the last item of a page, base64url JSON. A cursor that does
// not decode to the expected shape is a 422 naming `cursor`, never a 500.
import { type RawBuilder, sql } from 'kysely';
import { ValidationError } from '../errors.ts';

export function encodeCursor(key: readonly (string | number | boolean)[]): string {
  return Buffer.from(JSON.stringify(key)).toString('base64url');
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
  const invalid = () =>
    new ValidationError('invalid_cursor', 'cursor is not one this API gave out', { field: 'cursor' });
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    throw invalid();
  }
  if (!Array.isArray(parsed) || parsed.length !== shape.length) throw invalid();
  return parsed.map((v, i) => {
    const kind = shape[i];
    if (kind === 'date') {
      if (typeof v !== 'string' || Number.isNaN(Date.parse(v))) throw invalid();
      return new Date(v);
    }
    if (typeof v !== kind) throw invalid();
    return v;
  }) as never;
}

/** Newest-first keyset paging on (created_at, id), the order of every growing list of this API. */
export const newestFirst = {
  /** The condition for rows after the cursor's row. */
  after(cursor: string | undefined): RawBuilder<boolean> | undefined {
    if (!cursor) return undefined;
    const [at, id] = decodeCursor(cursor, ['date', 'string']);
    return sql<boolean>`(created_at, id) < (${at}, ${id})`;
  },
  /** One page from `limit + 1` rows: the extra row only says that another page exists. */
  page<R extends { created_at: Date; id: string }, J>(
    rows: readonly R[],
    limit: number,
    toJson: (row: R) => J,
  ) {
    const items = rows.slice(0, limit);
    const last = items.at(-1);
    const next = rows.length > limit && last ? encodeCursor([last.created_at.toISOString(), last.id]) : null;
    return { items: items.map(toJson), next_cursor: next };
  },
};
