// What the API routes need from the runtime, and small helpers they share.
import type { Kysely } from 'kysely';
import type { CommandHandler } from '../actors/command-handler.ts';
import { PreconditionFailedError } from '../errors.ts';
import type { EventStore } from '../events/event-store.ts';
import type { Database } from '../infra/database.ts';

export interface RouteDeps {
  readonly db: Kysely<Database>;
  readonly commands: CommandHandler;
  readonly events: EventStore;
}

export const etag = (version: number): string => `"${version}"`;

/** If-Match carries the version a client saw (our ETags are plain numbers in quotes). */
export function parseIfMatch(header: string | undefined): number | undefined {
  if (header === undefined) return undefined;
  const m = /^\s*(?:W\/)?"?(\d+)"?\s*$/.exec(header);
  if (!m) throw new PreconditionFailedError('version_mismatch', 'If-Match must be an ETag this API gave out');
  return Number(m[1]);
}

/** `%` and `_` match themselves in a LIKE pattern built from user text. */
export function likePattern(text: string): string {
  return `%${text.replace(/[\\%_]/g, (ch) => `\\${ch}`)}%`;
}
