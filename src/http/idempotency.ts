// Idempotency-Key, as the original honoured it on create-workflow, update-workflow and run-now. The
// ids a keyed request creates derive from (user, key), so a retry maps onto the same aggregate and
// the same command id and appends nothing new — even when two retries race. The table only keeps
// what makes the same key with a different request a 409.
import { createHash } from 'node:crypto';
import { ConflictError, ValidationError } from '../errors.ts';
import { nameBasedUuid } from '../events/name-based-id.ts';
import type { Db } from '../queries/db.ts';
import { claimRequestHash } from '../queries/idempotency-keys.ts';

export interface IdempotencyContext {
  readonly key: string;
  /** A stable id for what this key creates, e.g. `derivedId('workflow')`. */
  derivedId(purpose: string): string;
}

export async function claimIdempotencyKey(
  db: Db,
  userId: string,
  key: string | undefined,
  request: { method: string; path: string; body: unknown },
): Promise<IdempotencyContext | undefined> {
  if (key === undefined) return undefined;
  if (key.length === 0 || key.length > 255) {
    throw new ValidationError('invalid_idempotency_key', 'Idempotency-Key must be 1 to 255 characters', {
      field: 'Idempotency-Key',
    });
  }
  const requestHash = createHash('sha256')
    .update(`${request.method} ${request.path}\n${JSON.stringify(request.body ?? null)}`)
    .digest('hex');
  if ((await claimRequestHash(db, userId, key, requestHash)) !== requestHash) {
    throw new ConflictError(
      'idempotency_key_reused',
      'This Idempotency-Key was used with a different request',
    );
  }
  return { key, derivedId: (purpose) => nameBasedUuid(`${userId}\n${key}\n${purpose}`) };
}
