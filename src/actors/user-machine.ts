// The user actor as a pure XState machine whose events are the user's domain events (its evolve).
import { assign, setup } from 'xstate';
import type { NotificationPreference, UserEvent } from '../events/user-events.ts';

export type UserContext = {
  readonly user_id: string;
  readonly email: string;
  readonly notification_preference: NotificationPreference;
  /** How many read marks the user has made (the marks themselves live in the read model). */
  readonly read_marks: number;
};

export const userMachine = setup({
  types: { context: {} as UserContext, events: {} as UserEvent },
}).createMachine({
  id: 'user',
  initial: 'new',
  context: { user_id: '', email: '', notification_preference: 'ALERTS', read_marks: 0 },
  states: {
    new: {
      on: {
        UserRegistered: {
          target: 'registered',
          actions: assign(({ event }) => ({ user_id: event.data.user_id, email: event.data.email })),
        },
      },
    },
    registered: {
      on: {
        UserPreferencesChanged: {
          actions: assign(({ event }) => ({ notification_preference: event.data.notification_preference })),
        },
        NotificationsRead: { actions: assign(({ context }) => ({ read_marks: context.read_marks + 1 })) },
      },
    },
  },
});

export type UserMachine = typeof userMachine;
