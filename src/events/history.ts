// One aggregate's audit history: its events in log order, paged by stream sequence (the cursor is the
// sequence of the last commit returned). A finished job's commits may have moved from the log to the
// archive (retention, docs/events.md): the history is then read from there, in the same order and
// with the same sequences, so a client paging through it cannot tell.

import { mergeBySequence, missesCommits } from './commit-chain.ts';
import type { AggregateKind, EventEnvelope } from './envelope.ts';
import type { EventStore, StoredCommit } from './event-store.ts';
import { eventSubject } from './subjects.ts';

export interface HistoryEntry {
  readonly sequence: number;
  readonly event: EventEnvelope;
}

export interface HistoryPage {
  readonly entries: readonly HistoryEntry[];
  /** Pass as `after` for the next page; null when this page reached the end. */
  readonly next: number | null;
}

/** Where the retention sweep moved finished actors' commits, read by subject. */
export interface ArchiveReader {
  /** The subject's archived commits with a sequence above `after`, oldest first, `limit` at most. */
  read(subject: string, after: number, limit: number): Promise<StoredCommit[]>;
}

/** Reads of a replica behind the leader before the page is answered with what it has (~0.3 s). */
const CATCH_UP_TRIES = 5;

function endsShort(read: readonly StoredCommit[], after: number, last: number, limit: number): boolean {
  return read.length < limit && (read.at(-1)?.sequence ?? after) < last;
}

export async function aggregateHistory(
  store: EventStore,
  userId: string,
  aggregate: AggregateKind,
  aggregateId: string,
  page: { after?: number; limit?: number } = {},
  archive?: ArchiveReader,
): Promise<HistoryPage> {
  const limit = page.limit ?? 100;
  const subject = eventSubject(userId, aggregate, aggregateId);
  const after = page.after ?? 0;
  // The leader's last sequence, not the nearest replica's: an audit history read through one API
  // process must hold what was just committed through another (a replica may be milliseconds behind).
  const last = await store.lastSequenceAtLeader(subject);
  const readLog = () => (last > after ? store.read(subject, after + 1, last, limit) : Promise.resolve([]));
  let fromLog = await readLog();
  // A read that ends short of the leader's last, with room left on the page, was answered by a
  // replica still catching up: read again for a moment. (Or the retention sweep purged the subject
  // meanwhile; then the archive below answers, after these few tries.) Asking the leader makes the
  // history unavailable (503) while the stream elects one, where a replica would have answered.
  for (let tries = 1; tries < CATCH_UP_TRIES && endsShort(fromLog, after, last, limit); tries++) {
    await new Promise((r) => setTimeout(r, 10 * 2 ** tries));
    fromLog = await readLog();
  }
  let commits: readonly StoredCommit[] = fromLog;
  // The archive is asked only when the log cannot be all of it: a commit of the page follows one the
  // log no longer has, or the read ended short of where it should (a purge before or during it).
  const end = fromLog.length >= limit ? fromLog.at(-1)!.sequence : last;
  if (archive && (last === 0 || missesCommits(after, fromLog, end))) {
    commits = mergeBySequence(await archive.read(subject, after, limit + 1), fromLog);
  }
  // A page holds whole commits (at most `limit`), so a decision is never split across pages.
  const shown = commits.slice(0, limit);
  const lastShown = shown.at(-1)?.sequence;
  const more = lastShown !== undefined && (commits.length > limit || lastShown < last);
  return {
    entries: shown.flatMap((commit) => commit.events.map((event) => ({ sequence: commit.sequence, event }))),
    next: more ? lastShown : null,
  };
}
