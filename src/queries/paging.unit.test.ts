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

  it('refuse an instant PostgreSQL or JavaScript cannot hold, or one not written as this API writes it', () => {
    for (const at of [
      '-200000-01-01T00:00:00.000Z',
      '-004714-01-01T00:00:00.000Z',
      '+275760-09-13T00:00:00.001Z',
      '+300000-01-01T00:00:00.000Z',
      '2026-02-30T00:00:00.000Z',
      '2026-11-27',
      '2026-11-27T10:00:00Z',
      '2026-11-27T11:00:00.000+01:00',
      'Fri, 27 Nov 2026 10:00:00 GMT',
    ]) {
      expect(() => decodeCursor(encodeCursor([at, 'x']), ['date', 'string']), at).toThrow(ValidationError);
    }
    for (const at of [
      '-004712-01-01T00:00:00.000Z',
      '+275760-09-13T00:00:00.000Z',
      '0001-01-01T00:00:00.000Z',
    ]) {
      expect(decodeCursor(encodeCursor([at, 'x']), ['date', 'string'])[0].toISOString()).toBe(at);
    }
  });

  it('refuse NUL in a string part, overlong strings and wrong types', () => {
    const at = '2026-11-27T10:00:00.000Z';
    for (const [key, shape] of [
      [
        [at, 'a\u0000b'],
        ['date', 'string'],
      ],
      [
        [at, 'x'.repeat(257)],
        ['date', 'string'],
      ],
      [
        [at, 1],
        ['date', 'string'],
      ],
      [
        [at, 'x', 'y'],
        ['date', 'string'],
      ],
      [
        [1.5, 2],
        ['uint', 'uint'],
      ],
      [
        [-1, 2],
        ['uint', 'uint'],
      ],
      [
        [2 ** 53, 2],
        ['uint', 'uint'],
      ],
      [
        ['1', 2],
        ['uint', 'uint'],
      ],
      [
        ['true', at, 'x'],
        ['boolean', 'date', 'string'],
      ],
      [[null], ['date']],
    ] as const) {
      expect(() => decodeCursor(encodeCursor(key as never), shape), JSON.stringify(key)).toThrow(
        ValidationError,
      );
    }
    expect(decodeCursor(encodeCursor([true, at, 'x']), ['boolean', 'date', 'string'])).toEqual([
      true,
      new Date(at),
      'x',
    ]);
  });
});

describe('keyset pages', () => {
  const rows = [{ k: 3 }, { k: 2 }, { k: 1 }];
  it('cut limit + 1 rows to limit, with the cursor of the last row kept', () => {
    const page = keysetPage(rows, 2, (r) => [r.k]);
    expect(page.items).toEqual([{ k: 3 }, { k: 2 }]);
    expect(decodeCursor(page.next_cursor ?? '', ['uint'])).toEqual([2]);
  });
  it('have no cursor on the last page', () => {
    expect(keysetPage(rows, 3, (r) => [r.k])).toEqual({ items: rows, next_cursor: null });
    expect(keysetPage([], 3, (r: { k: number }) => [r.k])).toEqual({ items: [], next_cursor: null });
  });
});
