import { describe, expect, it } from 'vitest';
import { postgresSafe } from './postgres-text.ts';

describe('text for PostgreSQL', () => {
  it('replaces NUL everywhere in a row, keys and nested values included, and keeps the rest', () => {
    const at = new Date('2026-11-27T00:00:00Z');
    expect(
      postgresSafe({ name: 'a\u0000b', payload: { 'k\u0000': ['x\u0000', 1, null] }, at, n: 3 }),
    ).toEqual({
      name: 'a\uFFFDb',
      payload: { 'k\uFFFD': ['x\uFFFD', 1, null] },
      at,
      n: 3,
    });
  });
});
