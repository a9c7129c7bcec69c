// A user as the API shows it: from the users read model, or, right after registering (before the
// projection has caught up), from the user actor with the creation time of the credentials row.
import type { CommandHandler } from '../actors/command-handler.ts';
import { type UserSnapshot, userDecider } from '../actors/user-decider.ts';
import { NotFoundError } from '../errors.ts';
import type { UserTable } from '../infra/database.ts';
import type { Db } from './db.ts';

export interface UserView {
  readonly id: string;
  readonly email: string;
  readonly notification_preference: UserTable['notification_preference'];
  readonly created_at: Date;
}

/** The user in the given actor state. The actor knows no creation time; the credentials row (written in the same step) does. */
export async function userFromState(db: Db, userId: string, state: UserSnapshot): Promise<UserView> {
  const creds = await db
    .selectFrom('user_credentials')
    .select('created_at')
    .where('user_id', '=', userId)
    .executeTakeFirst();
  if (!creds) throw new NotFoundError('user_not_found', 'The user does not exist');
  const { email, notification_preference } = state.context;
  return { id: userId, email, notification_preference, created_at: creds.created_at };
}

/** The user from the read model, else from its actor; user_not_found when neither knows it. */
export async function currentUser(db: Db, commands: CommandHandler, userId: string): Promise<UserView> {
  const row = await db
    .selectFrom('users')
    .select(['id', 'email', 'notification_preference', 'created_at'])
    .where('id', '=', userId)
    .executeTakeFirst();
  if (row) return row;
  const actor = await commands.load(userDecider, userId, userId);
  if (!actor.exists) throw new NotFoundError('user_not_found', 'The user does not exist');
  return userFromState(db, userId, actor.state);
}

/** The user's notification preference as the read model has it (undefined before its row exists). */
export async function notificationPreference(
  db: Db,
  userId: string,
): Promise<UserTable['notification_preference'] | undefined> {
  const user = await db
    .selectFrom('users')
    .select('notification_preference')
    .where('id', '=', userId)
    .executeTakeFirst();
  return user?.notification_preference;
}
