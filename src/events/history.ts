// One aggregate's audit history: its events in log order, straight from JetStream, paged by
// stream sequence (the cursor is the sequence of the last commit returned).
import type { AggregateKind, EventEnvelope } from './envelope.ts';
import type { EventStore } from './event-store.ts';
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

export async function aggregateHistory(
  store: EventStore,
  userId: string,
  aggregate: AggregateKind,
  aggregateId: string,
  page: { after?: number; limit?: number } = {},
): Promise<HistoryPage> {
  const limit = page.limit ?? 100;
  const subject = eventSubject(userId, aggregate, aggregateId);
  const last = await store.lastSequence(subject);
  const after = page.after ?? 0;
  if (last <= after) return { entries: [], next: null };
  const entries: HistoryEntry[] = [];
  let next: number | null = null;
  // A page holds whole commits (at most `limit`), so a decision is never split across pages.
  for (const commit of await store.read(subject, after + 1, last, limit)) {
    for (const event of commit.events) entries.push({ sequence: commit.sequence, event });
    next = commit.sequence < last ? commit.sequence : null;
  }
  return { entries, next };
}
