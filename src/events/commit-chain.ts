// Whether commits read from a subject are the whole of it between two points, and how to make them
// so with the archive. Every commit names the subject's sequence before it (Cv-Previous-Sequence), so
// a read can tell that commits between two it holds (or before the first, or after the last) are no
// longer in the log: retention moved them to the archive, perhaps while the read was going on.
import type { StoredCommit } from './event-store.ts';

/**
 * True when `commits`, read after sequence `after` up to `last`, miss some: one follows a commit
 * the read does not hold, or the read ends before `last`.
 */
export function missesCommits(after: number, commits: readonly StoredCommit[], last: number): boolean {
  let previous = after;
  for (const c of commits) {
    if (c.previous !== undefined && c.previous > previous) return true;
    previous = c.sequence;
  }
  return previous < last;
}

/** The commits of both reads, once each (the log's copy where both hold one), in sequence order. */
export function mergeBySequence(
  archived: readonly StoredCommit[],
  fromLog: readonly StoredCommit[],
): StoredCommit[] {
  const bySequence = new Map<number, StoredCommit>();
  for (const c of archived) bySequence.set(c.sequence, c);
  for (const c of fromLog) bySequence.set(c.sequence, c);
  return [...bySequence.values()].sort((a, b) => a.sequence - b.sequence);
}
