// Opaque keyset cursors: the sort key of the last item of a page, base64url JSON. A cursor that does
// not decode to the expected shape is a 422 naming `cursor`, never a 500.
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
