import { describe, expect, it } from 'vitest';
import { mergeBySequence, missesCommits } from './commit-chain.ts';
import type { StoredCommit } from './event-store.ts';

const commit = (sequence: number, previous?: number, tag = 'log'): StoredCommit => ({
  sequence,
  subject: 'cv.evt.u.job.j',
  events: [{ id: `${tag}-${sequence}` } as never],
  ...(previous === undefined ? {} : { previous }),
});

describe('missesCommits', () => {
  it('is false for a whole chain from `after` to `last`', () => {
    expect(missesCommits(0, [commit(3, 0), commit(7, 3), commit(9, 7)], 9)).toBe(false);
    expect(missesCommits(7, [commit(9, 7)], 9)).toBe(false);
    expect(missesCommits(9, [], 9)).toBe(false);
  });
  it('sees commits missing before the first, between two, or after the last read', () => {
    expect(missesCommits(0, [commit(7, 3), commit(9, 7)], 9)).toBe(true);
    expect(missesCommits(0, [commit(3, 0), commit(9, 7)], 9)).toBe(true);
    expect(missesCommits(0, [commit(3, 0)], 9)).toBe(true);
    expect(missesCommits(0, [], 9)).toBe(true);
  });
  it('cannot judge commits written before the header, and does not guess', () => {
    expect(missesCommits(0, [commit(3), commit(9)], 9)).toBe(false);
  });
});

describe('mergeBySequence', () => {
  it('keeps each sequence once, the log copy where both have it, in order', () => {
    const merged = mergeBySequence(
      [commit(3, 0, 'archive'), commit(7, 3, 'archive')],
      [commit(7, 3), commit(9, 7)],
    );
    expect(merged.map((c) => [c.sequence, c.events[0]!.id])).toEqual([
      [3, 'archive-3'],
      [7, 'log-7'],
      [9, 'log-9'],
    ]);
  });
});
