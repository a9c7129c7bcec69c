// Integrators' NATS credentials: an opaque token per credential, shown once when issued and stored only
// as its SHA-256. The API's auth callout (nats-auth-callout.ts) looks a presented token up here on
// every NATS connection, so a revoked credential is refused from the next connection on.
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import type { Kysely } from 'kysely';
import { ConflictError, NotFoundError } from '../errors.ts';
import type { Database } from '../infra/database.ts';

/** Every token starts so: a credential is recognisable in a secret scanner, and told from other tokens. */
export const NATS_TOKEN_PREFIX = 'cvn_';
/** Credentials one user may hold at once (revoked ones do not count). */
export const MAX_NATS_CREDENTIALS = 100;

export interface NatsCredential {
  readonly id: string;
  readonly userId: string;
  readonly name: string;
  readonly createdAt: Date;
}

export interface IssuedNatsCredential extends NatsCredential {
  /** The token, shown once to its owner and never stored. */
  readonly token: string;
}

export function hashNatsToken(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}

export class NatsCredentials {
  constructor(private readonly db: Kysely<Database>) {}

  /**
   * A new credential for the user. `prepare` runs before the row is written, with the new id (the
   * API creates the credential's consumers there): a failure leaves no credential behind.
   */
  async issue(
    userId: string,
    name: string,
    prepare: (credential: NatsCredential) => Promise<void> = async () => {},
  ): Promise<IssuedNatsCredential> {
    const active = await this.db
      .selectFrom('nats_credentials')
      .select((eb) => eb.fn.countAll<string>().as('n'))
      .where('user_id', '=', userId)
      .where('revoked_at', 'is', null)
      .executeTakeFirstOrThrow();
    if (Number(active.n) >= MAX_NATS_CREDENTIALS) {
      throw new ConflictError(
        'too_many_nats_credentials',
        `A user may hold ${MAX_NATS_CREDENTIALS} NATS credentials at once; revoke one first`,
      );
    }
    const token = `${NATS_TOKEN_PREFIX}${randomBytes(32).toString('base64url')}`;
    const credential: NatsCredential = { id: randomUUID(), userId, name, createdAt: new Date() };
    await prepare(credential);
    await this.db
      .insertInto('nats_credentials')
      .values({
        id: credential.id,
        user_id: userId,
        name,
        token_hash: hashNatsToken(token),
        created_at: credential.createdAt,
      })
      .execute();
    return { ...credential, token };
  }

  /** The user's credentials that are not revoked, newest first (at most MAX_NATS_CREDENTIALS). */
  async list(userId: string): Promise<NatsCredential[]> {
    const rows = await this.db
      .selectFrom('nats_credentials')
      .select(['id', 'user_id', 'name', 'created_at'])
      .where('user_id', '=', userId)
      .where('revoked_at', 'is', null)
      .orderBy('created_at', 'desc')
      .orderBy('id', 'desc')
      .execute();
    return rows.map(fromRow);
  }

  /**
   * Revokes one of the user's credentials and returns it. nats_credential_not_found when it does not
   * exist, is another user's, or is already revoked (the same answer for all three).
   */
  async revoke(userId: string, id: string): Promise<NatsCredential> {
    const row = await this.db
      .updateTable('nats_credentials')
      .set({ revoked_at: new Date() })
      .where('id', '=', id)
      .where('user_id', '=', userId)
      .where('revoked_at', 'is', null)
      .returning(['id', 'user_id', 'name', 'created_at'])
      .executeTakeFirst();
    if (!row) throw new NotFoundError('nats_credential_not_found', 'No such NATS credential');
    return fromRow(row);
  }

  /** The credential a token belongs to, unless it is unknown or revoked. */
  async verify(token: string): Promise<NatsCredential | undefined> {
    if (!token.startsWith(NATS_TOKEN_PREFIX) || token.length > 200) return undefined;
    const row = await this.db
      .selectFrom('nats_credentials')
      .select(['id', 'user_id', 'name', 'created_at'])
      .where('token_hash', '=', hashNatsToken(token))
      .where('revoked_at', 'is', null)
      .executeTakeFirst();
    return row ? fromRow(row) : undefined;
  }
}

function fromRow(row: { id: string; user_id: string; name: string; created_at: Date }): NatsCredential {
  return { id: row.id, userId: row.user_id, name: row.name, createdAt: row.created_at };
}
