// Long-lived refresh tokens: opaque random strings, stored only as their SHA-256, rotated on every
// use. Each login starts a family; presenting a token that was already used (or revoked) means it was
// copied, so the whole family is revoked and both the thief and the user must log in again. A family
// is a session: whenever one is revoked (logout, reuse), `onSessionEnded` is told, so that the access
// tokens of the session are refused too (src/auth/session-revocations.ts).
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import type { Kysely } from 'kysely';
import { UnauthorizedError } from '../errors.ts';
import type { Database } from '../infra/database.ts';

export interface IssuedRefreshToken {
  /** The opaque token, shown once to the client and never stored. */
  readonly token: string;
  readonly userId: string;
  readonly familyId: string;
  readonly expiresAt: Date;
}

type Refusal = 'invalid_refresh_token' | 'refresh_token_reused' | 'refresh_token_expired';

const REFUSALS: Record<Refusal, string> = {
  invalid_refresh_token: 'The refresh token is not valid',
  refresh_token_reused: 'The refresh token was already used or revoked; its session has been ended',
  refresh_token_expired: 'The refresh token has expired',
};

export function hashRefreshToken(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}

export class RefreshTokens {
  private readonly ttlMs: number;
  private readonly now: () => Date;
  private readonly onSessionEnded: (familyId: string) => Promise<void>;

  constructor(
    private readonly db: Kysely<Database>,
    options: { ttlDays: number; now?: () => Date; onSessionEnded?: (familyId: string) => Promise<void> },
  ) {
    this.ttlMs = options.ttlDays * 86_400_000;
    this.now = options.now ?? (() => new Date());
    this.onSessionEnded = options.onSessionEnded ?? (async () => {});
  }

  /** A new token for the user; without `familyId` it starts a new family (a new login). */
  issue(userId: string, familyId: string = randomUUID(), db: Kysely<Database> = this.db) {
    return this.insert(db, userId, familyId, this.now());
  }

  /**
   * Exchanges a token for a new one in its family. The old token is claimed with a conditional
   * UPDATE, so of two concurrent rotations exactly one claims it; the other sees a used token.
   */
  async rotate(token: string): Promise<IssuedRefreshToken> {
    const hash = hashRefreshToken(token);
    const now = this.now();
    const outcome = await this.db
      .transaction()
      .execute(async (trx): Promise<IssuedRefreshToken | Refusal | { reusedFamily: string }> => {
        const claimed = await trx
          .updateTable('refresh_tokens')
          .set({ used_at: now })
          .where('token_hash', '=', hash)
          .where('used_at', 'is', null)
          .where('revoked_at', 'is', null)
          .where('expires_at', '>', now)
          .returning(['user_id', 'family_id'])
          .executeTakeFirst();
        if (claimed) return this.insert(trx, claimed.user_id, claimed.family_id, now);

        const row = await trx
          .selectFrom('refresh_tokens')
          .select(['family_id', 'used_at', 'revoked_at'])
          .where('token_hash', '=', hash)
          .executeTakeFirst();
        if (!row) return 'invalid_refresh_token';
        if (row.used_at || row.revoked_at) {
          // Returned, not thrown, so the transaction commits the revocation.
          await revokeFamily(trx, row.family_id, now);
          return { reusedFamily: row.family_id };
        }
        return 'refresh_token_expired';
      });
    if (typeof outcome === 'string') throw new UnauthorizedError(outcome, REFUSALS[outcome]);
    if ('reusedFamily' in outcome) {
      await this.onSessionEnded(outcome.reusedFamily);
      throw new UnauthorizedError('refresh_token_reused', REFUSALS.refresh_token_reused);
    }
    return outcome;
  }

  /** Logout: revokes every token of the token's family, and ends its session. Its id, or undefined when the token is unknown. */
  async revokeFamilyOf(token: string): Promise<string | undefined> {
    const row = await this.db
      .selectFrom('refresh_tokens')
      .select('family_id')
      .where('token_hash', '=', hashRefreshToken(token))
      .executeTakeFirst();
    if (!row) return undefined;
    await this.revokeFamily(row.family_id);
    return row.family_id;
  }

  /** Logout by an access token: revokes every token of the family (the session) and ends it. */
  async revokeFamily(familyId: string): Promise<void> {
    await revokeFamily(this.db, familyId, this.now());
    await this.onSessionEnded(familyId);
  }

  private async insert(
    db: Kysely<Database>,
    userId: string,
    familyId: string,
    now: Date,
  ): Promise<IssuedRefreshToken> {
    const token = randomBytes(32).toString('base64url');
    const expiresAt = new Date(now.getTime() + this.ttlMs);
    await db
      .insertInto('refresh_tokens')
      .values({
        id: randomUUID(),
        family_id: familyId,
        user_id: userId,
        token_hash: hashRefreshToken(token),
        expires_at: expiresAt,
        created_at: now,
        used_at: null,
        revoked_at: null,
      })
      .execute();
    return { token, userId, familyId, expiresAt };
  }
}

async function revokeFamily(db: Kysely<Database>, familyId: string, now: Date): Promise<void> {
  await db
    .updateTable('refresh_tokens')
    .set({ revoked_at: now })
    .where('family_id', '=', familyId)
    .where('revoked_at', 'is', null)
    .execute();
}
