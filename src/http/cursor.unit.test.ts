import { describe, expect, it } from 'vitest';
import { ValidationError } from '../errors.ts';
import { decodeCursor, encodeCursor } from './cursor.ts';

describe('cursors', () => {
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
