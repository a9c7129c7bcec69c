// What the API routes need from the runtime, and small helpers they share.
import type { CommandHandler } from '../actors/command-handler.ts';
import { PreconditionFailedError } from '../errors.ts';
import type { EventStore } from '../events/event-store.ts';
import type { ArchiveReader } from '../events/history.ts';
import type { Db } from '../queries/db.ts';
import type { ReadModelWait } from '../queries/read-your-writes.ts';

export interface RouteDeps {
  readonly db: Db;
  readonly commands: CommandHandler;
  readonly events: EventStore;
  /** Finished jobs' commits moved out of the log by retention; without it, history is the log's. */
  readonly archive?: ArchiveReader;
  /** How a mutation waits for the read models to hold it (the projector is hurried over NATS). */
  readonly readModelWait?: ReadModelWait;
}

export const etag = (version: number): string => `"${version}"`;

/** If-Match carries the version a client saw (our ETags are plain numbers in quotes). */
export function parseIfMatch(header: string | undefined): number | undefined {
  if (header === undefined) return undefined;
  const m = /^\s*(?:W\/)?"?(\d+)"?\s*$/.exec(header);
  if (!m) throw new PreconditionFailedError('version_mismatch', 'If-Match must be an ETag this API gave out');
  return Number(m[1]);
}
