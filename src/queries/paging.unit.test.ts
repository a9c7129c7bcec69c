import { describe, expect, it } from 'vitest';
import { ValidationError } from '../errors.ts';
import { decodeCursor, encodeCursor, keysetPage } from './paging.ts';

describe('keyset paging', () => {
  it('round-trip a sort key', () => {
    const c = encodeCursor(['2026-11-27T10:00:00.000Z', 'abc']);
    const [at, id] = decodeCursor(c, ['date', 'string']);
    expect(at.toISOString()).toBe('2026-11-27T10:00:00.000Z');
    expect(id).toBe('abc');
  });
  it('refuse anything that is not a cursor of that shape', () => {
    for (const bad of [
      '',
      'not base64 !!',
      encodeCursor(['x']),
      encodeCursor(['not a date', 'a']),
      encodeCursor([1, 2]),
    ]) {
      expect(() => decodeCursor(bad, ['date', 'string'])).toThrow(ValidationError);
    }
  });
});

describe('keyset pages', () => {
  const rows = [{ k: 3 }, { k: 2 }, { k: 1 }];
  it('cut limit + 1 rows to limit, with the cursor of the last row kept', () => {
    const page = keysetPage(rows, 2, (r) => [r.k]);
    expect(page.items).toEqual([{ k: 3 }, { k: 2 }]);
    expect(decodeCursor(page.next_cursor ?? '', ['number'])).toEqual([2]);
  });
  it('have no cursor on the last page', () => {
    expect(keysetPage(rows, 3, (r) => [r.k])).toEqual({ items: rows, next_cursor: null });
    expect(keysetPage([], 3, (r: { k: number }) => [r.k])).toEqual({ items: [], next_cursor: null });
  });
});
