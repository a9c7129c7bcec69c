import { describe, expect, it } from 'vitest';
import { nameBasedUuid } from './name-based-id.ts';

describe('name-based ids', () => {
  it('are stable, distinct per name, and shaped like a version 5 UUID', () => {
    expect(nameBasedUuid('a')).toBe(nameBasedUuid('a'));
    expect(nameBasedUuid('a')).not.toBe(nameBasedUuid('b'));
    expect(nameBasedUuid('workflow\n2026-11-27T10:00:00.000Z')).toMatch(
      /^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/,
    );
  });
});
