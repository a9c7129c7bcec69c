// Decides the user's commands against its current state.
import type { SnapshotFrom } from 'xstate';
import { assertNever } from '../assert.ts';
import { ConflictError, NotFoundError, ValidationError } from '../errors.ts';
import type { NotificationPreference, UserCommand, UserEvent } from '../events/user-events.ts';
import { makeDecider } from './aggregate.ts';
import { requireText } from './decision-input.ts';
import { type UserMachine, userMachine } from './user-machine.ts';

export type UserSnapshot = SnapshotFrom<UserMachine>;

export const MAX_READ_MARKS = 1000;
const PREFERENCES: readonly NotificationPreference[] = ['ALERTS', 'ALL', 'NONE'];
// Deliberately loose: the HTTP edge validates emails properly; this keeps garbage out of the log.
const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;

function decideUser(command: UserCommand, state: UserSnapshot): readonly UserEvent[] {
  switch (command.type) {
    case 'RegisterUser': {
      if (!state.matches('new')) {
        throw new ConflictError('user_already_exists', 'The user is already registered');
      }
      const user_id = requireText('user_id', command.data.user_id, 'invalid_id');
      const email = command.data.email.trim();
      if (!EMAIL.test(email)) {
        throw new ValidationError('invalid_email', 'email must be a valid email address', { field: 'email' });
      }
      return [{ type: 'UserRegistered', data: { user_id, email } }];
    }
    case 'ChangeUserPreferences': {
      if (state.matches('new')) throw new NotFoundError('user_not_found', 'The user does not exist');
      const preference = command.data.notification_preference;
      if (!PREFERENCES.includes(preference)) {
        throw new ValidationError(
          'invalid_notification_preference',
          'notification_preference must be ALERTS, ALL or NONE',
          {
            field: 'notification_preference',
          },
        );
      }
      if (preference === state.context.notification_preference) return [];
      return [{ type: 'UserPreferencesChanged', data: { notification_preference: preference } }];
    }
    case 'MarkNotificationsRead': {
      if (state.matches('new')) throw new NotFoundError('user_not_found', 'The user does not exist');
      const ids = [...new Set(command.data.ids)];
      if (
        ids.length === 0 ||
        ids.length > MAX_READ_MARKS ||
        ids.some((id) => typeof id !== 'string' || id === '')
      ) {
        throw new ValidationError(
          'invalid_notification_ids',
          `ids must be 1 to ${MAX_READ_MARKS} notification ids`,
          {
            field: 'ids',
          },
        );
      }
      return [{ type: 'NotificationsRead', data: { ids } }];
    }
    default:
      return assertNever(command);
  }
}

export const userDecider = makeDecider<UserMachine, UserCommand>('user', userMachine, decideUser);
