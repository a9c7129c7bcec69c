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

export type UserEvent = UserRegistered | UserPreferencesChanged;

export type RegisterUser = {
  readonly type: 'RegisterUser';
  readonly data: { readonly user_id: string; readonly email: string };
};

export type ChangeUserPreferences = {
  readonly type: 'ChangeUserPreferences';
  readonly data: { readonly notification_preference: NotificationPreference };
};

export type UserCommand = RegisterUser | ChangeUserPreferences;
