// The auth services of one API process, built once from the configuration: access tokens (signing
// keys loaded or generated), refresh tokens in PostgreSQL, ended sessions in NATS KV, password
// hashing, the login limiter, integrators' NATS credentials and API keys.
import type { Kysely } from 'kysely';
import type { Config } from '../config/config.ts';
import type { Database } from '../infra/database.ts';
import { type Nats, natsReplicas } from '../infra/nats-connection.ts';
import type { Logger } from '../telemetry/logger.ts';
import { ApiKeys } from './api-keys.ts';
import { loadJwtKeys } from './jwt-keys.ts';
import { LoginRateLimiter, type LoginRateLimits } from './login-rate-limiter.ts';
import { NatsCredentials } from './nats-credentials.ts';
import { type Argon2Params, PasswordHasher } from './password.ts';
import { RefreshTokens } from './refresh-tokens.ts';
import { SessionRevocations } from './session-revocations.ts';
import { SignupRateLimiter } from './signup-rate-limiter.ts';
import { type AccessTokens, createAccessTokens } from './tokens.ts';

export interface AuthServices {
  readonly tokens: AccessTokens;
  readonly refreshTokens: RefreshTokens;
  readonly sessions: SessionRevocations;
  readonly passwords: PasswordHasher;
  readonly rateLimiter: LoginRateLimiter;
  readonly signupLimiter: SignupRateLimiter;
  readonly natsCredentials: NatsCredentials;
  readonly apiKeys: ApiKeys;
  /** Stops watching the ended sessions. */
  close(): Promise<void>;
}

export interface AuthServicesDeps {
  readonly db: Kysely<Database>;
  readonly config: Config;
  readonly nats: Pick<Nats, 'nc'>;
  readonly log?: Logger;
  readonly now?: () => Date;
  /** Tests lower these; production uses the defaults. */
  readonly argon2?: Argon2Params;
  readonly loginRateLimits?: Partial<LoginRateLimits>;
}

export async function createAuthServices(deps: AuthServicesDeps): Promise<AuthServices> {
  const now = deps.now ?? (() => new Date());
  const keys = await loadJwtKeys(deps.config);
  const passwords = new PasswordHasher(deps.argon2);
  await passwords.prepare();
  const ttlSeconds = deps.config.CV_ACCESS_TOKEN_TTL_SECONDS;
  const sessions = await SessionRevocations.open(deps.nats.nc, {
    accessTokenTtlSeconds: ttlSeconds,
    now,
    replicas: natsReplicas(deps.config.CV_NATS_REPLICAS, deps.nats.nc.info),
    onWarning: (message, error) => deps.log?.warn(message, error === undefined ? {} : { error }),
  });
  return {
    tokens: createAccessTokens({ keys, ttlSeconds, now, endedSessions: sessions }),
    refreshTokens: new RefreshTokens(deps.db, {
      ttlDays: deps.config.CV_REFRESH_TOKEN_TTL_DAYS,
      now,
      onSessionEnded: (familyId) => sessions.end(familyId),
    }),
    sessions,
    passwords,
    rateLimiter: new LoginRateLimiter(deps.loginRateLimits, now),
    signupLimiter: new SignupRateLimiter(deps.config.CV_SIGNUP_LIMIT_PER_HOUR, now),
    natsCredentials: new NatsCredentials(deps.db),
    apiKeys: new ApiKeys(deps.db, {
      now,
      onWarning: (message, error) => deps.log?.warn(message, { error }),
    }),
    close: () => sessions.close(),
  };
}
