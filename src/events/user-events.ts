// The user aggregate's events and commands: one union each, past-tense events, imperative commands.

export type NotificationPreference = 'ALERTS' | 'ALL' | 'NONE';

export type UserRegistered = {
  readonly type: 'UserRegistered';
  readonly data: { readonly user_id: string; readonly email: string };
};

export type UserPreferencesChanged = {
  readonly type: 'UserPreferencesChanged';
  readonly data: { readonly notification_preference: NotificationPreference };
};

/** The user read these notifications (ids of notifications, which are derived from event ids). */
export type NotificationsRead = {
  readonly type: 'NotificationsRead';
  readonly data: { readonly ids: readonly string[] };
};

export type UserEvent = UserRegistered | UserPreferencesChanged | NotificationsRead;

export type RegisterUser = {
  readonly type: 'RegisterUser';
  readonly data: { readonly user_id: string; readonly email: string };
};

export type ChangeUserPreferences = {
  readonly type: 'ChangeUserPreferences';
  readonly data: { readonly notification_preference: NotificationPreference };
};

export type MarkNotificationsRead = {
  readonly type: 'MarkNotificationsRead';
  readonly data: { readonly ids: readonly string[] };
};

export type UserCommand = RegisterUser | ChangeUserPreferences | MarkNotificationsRead;
