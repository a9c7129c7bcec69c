// Login credentials (user_credentials, written by the API, not by projections): a new account's row,
// and an account by email for a login.
import type { Kysely } from 'kysely';
import { ConflictError } from '../errors.ts';
import type { Database } from '../infra/database.ts';

/**
 * Inserts the account's credentials, then runs `registerUser` in the same transaction: the row
 * commits only if that succeeds, so there is no account without a user. email_taken when the email
 * has an account already.
 */
export async function insertCredentials(
  db: Kysely<Database>,
  account: { readonly userId: string; readonly email: string; readonly passwordHash: string },
  registerUser: () => Promise<unknown>,
): Promise<void> {
  await db.transaction().execute(async (trx) => {
    const inserted = await trx
      .insertInto('user_credentials')
      .values({ user_id: account.userId, email: account.email, password_hash: account.passwordHash })
      .onConflict((oc) => oc.column('email').doNothing())
      .returning('user_id')
      .executeTakeFirst();
    if (!inserted) throw new ConflictError('email_taken', 'An account with this email already exists');
    await registerUser();
  });
}

/** The account of an email (lower-cased by the caller), if there is one. */
export function findCredentials(
  db: Kysely<Database>,
  email: string,
): Promise<{ user_id: string; password_hash: string } | undefined> {
  return db
    .selectFrom('user_credentials')
    .select(['user_id', 'password_hash'])
    .where('email', '=', email)
    .executeTakeFirst();
}
