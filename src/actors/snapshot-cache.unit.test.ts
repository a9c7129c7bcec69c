import { describe, expect, it } from 'vitest';
import { SnapshotCache } from './snapshot-cache.ts';

describe('SnapshotCache', () => {
  it('keeps the newer of a cached and a given snapshot', () => {
    const cache = new SnapshotCache(10);
    cache.set('a', 5, 'five');
    cache.set('a', 3, 'three');
    expect(cache.get('a')).toEqual({ version: 5, state: 'five' });
    cache.set('a', 7, 'seven');
    expect(cache.peek('a')).toEqual({ version: 7, state: 'seven' });
  });

  it('holds at most its capacity, and keeps what was used last over what was not', () => {
    const cache = new SnapshotCache(100);
    const all = Array.from({ length: 400 }, (_, i) => `s${i}`);
    const held = () => all.filter((s) => cache.peek(s));
    for (let i = 0; i < 400; i++) {
      cache.set(`s${i}`, i, i);
      expect(held().length).toBeLessThanOrEqual(100);
    }
    expect(held().length).toBeGreaterThanOrEqual(50);
    // s350..s359 used again, then 60 newcomers: the used ones stay, the oldest unused go.
    for (let i = 350; i < 360; i++) expect(cache.get(`s${i}`)?.state).toBe(i);
    for (let i = 400; i < 460; i++) cache.set(`t${i}`, i, i);
    for (let i = 350; i < 360; i++) expect(cache.peek(`s${i}`)?.state).toBe(i);
    for (let i = 300; i < 350; i++) expect(cache.peek(`s${i}`)).toBeUndefined();
    for (let i = 400; i < 460; i++) expect(cache.peek(`t${i}`)?.state).toBe(i);
  });

  it('forgets a deleted subject in every generation', () => {
    const cache = new SnapshotCache(4);
    cache.set('a', 1, 'old');
    cache.set('b', 1, 'b');
    cache.set('a', 2, 'new');
    cache.delete('a');
    expect(cache.peek('a')).toBeUndefined();
    expect(cache.get('a')).toBeUndefined();
    expect(cache.get('b')?.state).toBe('b');
  });
});
