import { describe, expect, it } from 'vitest';
import { ownerOf } from './ownership.ts';

const keys = Array.from({ length: 3000 }, (_, i) => `workflow-${i}`);

describe('rendezvous ownership', () => {
  it('gives every key exactly one owner among the members, spread evenly', () => {
    const members = ['a', 'b', 'c'];
    const counts = new Map<string, number>();
    for (const k of keys) counts.set(ownerOf(k, members)!, (counts.get(ownerOf(k, members)!) ?? 0) + 1);
    expect([...counts.keys()].sort()).toEqual(members);
    for (const n of counts.values()) expect(n).toBeGreaterThan(800);
  });

  it('moves only the departed member’s keys when one leaves', () => {
    const before = new Map(keys.map((k) => [k, ownerOf(k, ['a', 'b', 'c'])]));
    for (const k of keys) {
      const after = ownerOf(k, ['a', 'c']);
      if (before.get(k) !== 'b') expect(after).toBe(before.get(k));
      else expect(['a', 'c']).toContain(after);
    }
  });

  it('does not depend on the order of the member list, and has no owner without members', () => {
    expect(keys.slice(0, 50).map((k) => ownerOf(k, ['a', 'b', 'c']))).toEqual(
      keys.slice(0, 50).map((k) => ownerOf(k, ['c', 'a', 'b'])),
    );
    expect(ownerOf('x', [])).toBeUndefined();
  });
});
