import { describe, expect, it } from 'vitest';
import { specFor } from '../../test/support/decider-spec.ts';
import { ConflictError, NotFoundError, ValidationError } from '../errors.ts';
import type { UserEvent } from '../events/user-events.ts';
import { evolveAll } from './aggregate.ts';
import { userDecider } from './user-decider.ts';
import { userMachine } from './user-machine.ts';

const given = specFor(userDecider, { now: new Date('2026-03-01T12:00:00.000Z') });
const registered: UserEvent = { type: 'UserRegistered', data: { user_id: 'u1', email: 'ada@example.com' } };
const prefersAll: UserEvent = { type: 'UserPreferencesChanged', data: { notification_preference: 'ALL' } };

describe('user machine', () => {
  it('registers with alerts-only notifications, then changes preference', () => {
    expect(evolveAll(userMachine, [registered]).context).toEqual({
      user_id: 'u1',
      email: 'ada@example.com',
      notification_preference: 'ALERTS',
      read_marks: 0,
    });
    expect(evolveAll(userMachine, [registered, prefersAll]).context.notification_preference).toBe('ALL');
  });

  it('accepts nothing before registration and no second registration', () => {
    expect(evolveAll(userMachine, []).can(prefersAll)).toBe(false);
    expect(evolveAll(userMachine, [registered]).can(registered)).toBe(false);
  });
});

describe('RegisterUser', () => {
  it('registers a user, trimming the email', () => {
    given([])
      .when({ type: 'RegisterUser', data: { user_id: 'u1', email: ' ada@example.com ' } })
      .then([registered]);
  });

  it('refuses a second registration', () => {
    given([registered])
      .when({ type: 'RegisterUser', data: { user_id: 'u1', email: 'ada@example.com' } })
      .thenThrows(ConflictError, 'user_already_exists');
  });

  it('refuses an invalid email or an empty id', () => {
    given([])
      .when({ type: 'RegisterUser', data: { user_id: 'u1', email: 'ada' } })
      .thenThrows(ValidationError, 'invalid_email');
    given([])
      .when({ type: 'RegisterUser', data: { user_id: '', email: 'ada@example.com' } })
      .thenThrows(ValidationError, 'invalid_id');
  });
});

describe('ChangeUserPreferences', () => {
  it('changes the notification preference', () => {
    given([registered])
      .when({ type: 'ChangeUserPreferences', data: { notification_preference: 'ALL' } })
      .then([prefersAll]);
  });

  it('is a no-op when the preference does not change', () => {
    given([registered])
      .when({ type: 'ChangeUserPreferences', data: { notification_preference: 'ALERTS' } })
      .then([]);
  });

  it('refuses an unknown preference', () => {
    given([registered])
      .when({ type: 'ChangeUserPreferences', data: { notification_preference: 'SOME' as 'ALL' } })
      .thenThrows(ValidationError, 'invalid_notification_preference');
  });

  it('refuses a user that does not exist', () => {
    given([])
      .when({ type: 'ChangeUserPreferences', data: { notification_preference: 'ALL' } })
      .thenThrows(NotFoundError, 'user_not_found');
  });
});

describe('MarkNotificationsRead', () => {
  it('records the ids read, each once', () => {
    given([registered])
      .when({ type: 'MarkNotificationsRead', data: { ids: ['n1', 'n2', 'n1'] } })
      .then([{ type: 'NotificationsRead', data: { ids: ['n1', 'n2'] } }]);
  });

  it('refuses an empty list, an empty id, or more than the limit', () => {
    for (const ids of [[], [''], Array.from({ length: 1001 }, (_, i) => `n${i}`)]) {
      given([registered])
        .when({ type: 'MarkNotificationsRead', data: { ids } })
        .thenThrows(ValidationError, 'invalid_notification_ids');
    }
  });

  it('refuses a user that does not exist', () => {
    given([])
      .when({ type: 'MarkNotificationsRead', data: { ids: ['n1'] } })
      .thenThrows(NotFoundError, 'user_not_found');
  });
});
