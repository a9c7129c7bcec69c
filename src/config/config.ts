// The configuration of every role, read from the environment once and validated at start. A bad or
// missing variable stops the process with a message that names each one. Defaults serve the local stack.
import { createPrivateKey, createPublicKey } from 'node:crypto';
import { join } from 'node:path';
import { z } from 'zod';
import { parseNetworks } from '../infra/endpoint-policy.ts';
import { parseSecretKeys } from '../infra/secret-box.ts';
import { dataDir, localDefaults } from '../stack/paths.ts';

const port = z.coerce.number().int().min(1).max(65535);
const positiveInt = z.coerce.number().int().positive();
const url = (protocols: readonly string[]) =>
  z.string().refine(
    (v) => {
      try {
        return protocols.includes(new URL(v).protocol);
      } catch {
        return false;
      }
    },
    { message: `must be a URL starting with ${protocols.map((p) => `${p}//`).join(' or ')}` },
  );
/** An Ed25519 key in PEM; `\n` escapes are accepted because one-line environment values are common. */
const ed25519Pem = (kind: 'private' | 'public') =>
  z
    .string()
    .transform((v) => v.replaceAll('\\n', '\n').trim())
    .refine(
      (pem) => {
        try {
          const key = kind === 'private' ? createPrivateKey(pem) : createPublicKey(pem);
          return key.asymmetricKeyType === 'ed25519';
        } catch {
          return false;
        }
      },
      { message: `must be an Ed25519 ${kind} key in PEM` },
    );

/** True when either key does not parse: that key's own check reports it, once. */
function samePublicKey(privatePem: string, publicPem: string): boolean {
  try {
    const derived = createPublicKey(privatePem).export({ type: 'spki', format: 'pem' });
    return derived === createPublicKey(publicPem).export({ type: 'spki', format: 'pem' });
  } catch {
    return true;
  }
}

/** Every variable, its default and its meaning; the README's table is this list. */
const configFields = z.object({
  CV_HTTP_HOST: z.string().min(1).default('127.0.0.1'),
  CV_HTTP_PORT: port.default(8080),
  // /healthz and /readyz on a port of their own (on CV_HTTP_HOST), for the probes of a process
  // without the API (scheduler, projector, executor); unset, such a process serves no HTTP.
  CV_HEALTH_PORT: port.optional(),
  // On SIGTERM, /readyz answers 503 for this long before the process stops taking work, so a load
  // balancer or Kubernetes' endpoints stop sending requests first (5 in deploy/k8s; 0 locally).
  CV_SHUTDOWN_DELAY_SECONDS: z.coerce.number().int().min(0).max(120).default(0),
  CV_PUBLIC_URL: z.string().url().optional(),
  NATS_URL: z.string().min(1).default(localDefaults.natsUrl),
  // Copies of each JetStream stream and KV bucket created from now on; unset: 3 when the server is
  // part of a cluster, 1 when it stands alone. An existing stream keeps its count (docs/deployment.md).
  CV_NATS_REPLICAS: z.coerce.number().int().min(1).max(5).optional(),
  DATABASE_URL: url(['postgres:', 'postgresql:']).default(localDefaults.databaseUrl),
  DATABASE_POOL_SIZE: positiveInt.max(200).default(10),
  CLICKHOUSE_URL: url(['http:', 'https:']).default(localDefaults.clickhouseUrl),
  CLICKHOUSE_DATABASE: z
    .string()
    .regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'must be a plain identifier')
    .default('chronoverse'),
  CLICKHOUSE_USER: z.string().default('default'),
  CLICKHOUSE_PASSWORD: z.string().default(''),
  DOCKER_HOST: z
    .string()
    .regex(/^(unix|tcp|http|https):\/\//, 'must start with unix://, tcp://, http:// or https://')
    .default(localDefaults.dockerHost),
  CV_EXECUTOR_POOL: z
    .string()
    .regex(/^[A-Za-z0-9_-]+$/, 'letters, digits, - and _ only')
    .default('default'),
  CV_EXECUTOR_CONCURRENCY: positiveInt.max(1000).default(4),
  CV_EXECUTOR_ID: z
    .string()
    // A key of the CV_EXECUTORS bucket: dots only between other characters.
    .regex(/^[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*$/, 'letters, digits, - and _, and dots between them only')
    .optional()
    .describe('stable across restarts, so a restarted executor finds its own containers'),
  CV_EXECUTOR_DEFAULT_CPUS: z.coerce.number().positive().max(256).default(1),
  CV_EXECUTOR_DEFAULT_MEMORY_MB: positiveInt.min(6).default(256),
  CV_EXECUTOR_DEFAULT_PIDS: positiveInt.default(128),
  CV_EXECUTOR_MAX_CPUS: z.coerce.number().positive().max(256).default(2),
  CV_EXECUTOR_MAX_MEMORY_MB: positiveInt.min(6).default(2048),
  CV_EXECUTOR_MAX_PIDS: positiveInt.default(1024),
  // Networks a HEARTBEAT may reach besides the public internet (loopback, private, link-local… are
  // refused otherwise): comma-separated addresses or CIDRs, e.g. 10.20.0.0/16,192.168.1.5.
  CV_HEARTBEAT_ALLOWED_NETWORKS: z
    .string()
    .default('')
    .refine(
      (v) => {
        try {
          parseNetworks(v);
          return true;
        } catch {
          return false;
        }
      },
      { message: 'comma-separated IP addresses or CIDR networks, such as 10.20.0.0/16,192.168.1.5' },
    ),
  // A herd of 10,000 ticks is decided in ~11 s and dispatched ~4 s later here (bench herd): 20 s of
  // lookahead has them all dispatched, waiting for their nominal time, before it comes.
  CV_SCHEDULER_LOOKAHEAD_MS: z.coerce.number().int().min(0).max(120_000).default(20_000),
  CV_SCHEDULER_CATCH_UP: z.enum(['latest', 'all', 'none']).default('latest'),
  CV_SCHEDULER_GRACE_SECONDS: positiveInt.max(86_400).default(30),
  CV_SCHEDULER_CATCH_UP_WINDOW_SECONDS: positiveInt.default(3600),
  CV_DISPATCH_ACK_WAIT_SECONDS: positiveInt.max(3600).default(30),
  CV_DISPATCH_MAX_DELIVER: positiveInt.max(100).default(5),
  CV_LOG_BUFFER_MAX_AGE_HOURS: positiveInt.default(24),
  CV_LOG_RETENTION_DAYS: positiveInt.default(30),
  // Finished jobs' commits older than this move from the event log to the archive (docs/events.md,
  // "Retention and archive"); 0 keeps every commit in the log for ever.
  CV_EVENTS_RETENTION_DAYS: z.coerce.number().int().min(0).max(3650).default(30),
  CV_LOG_LEVEL: z.enum(['debug', 'info', 'warn', 'error']).default('info'),
  CV_JWT_PRIVATE_KEY: ed25519Pem('private').optional(),
  CV_JWT_PUBLIC_KEY: ed25519Pem('public').optional(),
  CV_JWT_KEY_DIR: z.string().min(1).default(join(dataDir, 'jwt')),
  CV_ACCESS_TOKEN_TTL_SECONDS: positiveInt.max(86_400).default(900),
  CV_REFRESH_TOKEN_TTL_DAYS: positiveInt.max(365).default(30),
  CV_SIGNUP_LIMIT_PER_HOUR: positiveInt.max(1_000_000).default(20),
  // The most ticks one backfill may fire (a longer range is refused with 422, naming this cap).
  CV_BACKFILL_MAX_TICKS: positiveInt.max(100_000).default(1000),
  // Outbound webhooks (docs/webhooks.md), delivered by the projector: a failed delivery is tried again
  // after base, 2·base, 4·base … (at most the cap) until it is older than the max age, then given up;
  // this many failed attempts in a row (over all of a subscription's workflows) disable a subscription.
  CV_WEBHOOK_BACKOFF_BASE_MS: positiveInt.max(3_600_000).default(5000),
  CV_WEBHOOK_BACKOFF_CAP_MS: positiveInt.max(86_400_000).default(3_600_000),
  CV_WEBHOOK_MAX_AGE_SECONDS: positiveInt.max(7 * 86_400).default(86_400),
  CV_WEBHOOK_DISABLE_AFTER_FAILURES: positiveInt.max(100_000).default(100),
  // How long a receiver may take to answer one delivery.
  CV_WEBHOOK_TIMEOUT_SECONDS: positiveInt.max(120).default(10),
  // How often the pending deliveries are looked at (a new event waits at most about this long).
  CV_WEBHOOK_POLL_MS: positiveInt.max(60_000).default(500),
  // Keys that seal CONTAINER secret_env values: "id:base64 of 32 bytes,…", the first seals, all open.
  CV_SECRETS_KEYS: z
    .string()
    .optional()
    .refine(
      (v) => {
        if (!v) return true;
        try {
          return parseSecretKeys(v).length > 0;
        } catch {
          return false;
        }
      },
      { message: 'comma-separated id:base64 keys of 32 bytes, e.g. k2:…,k1:… (the first seals)' },
    ),
  CV_SECRETS_KEY_DIR: z.string().min(1).default(join(dataDir, 'secrets')),
  // The account nkey (seed SA…) that signs integrators' NATS user JWTs; its public key is the
  // auth_callout issuer of a nats-server configured for integrators (`chronoverse nats-config`).
  CV_NATS_ISSUER_SEED: z
    .string()
    .optional()
    .refine((v) => v === undefined || /^SA[A-Z2-7]{56}$/.test(v.trim()), {
      message: 'must be an account nkey seed (SA… , 58 characters), e.g. from `nsc generate nkey --account`',
    }),
  CV_NATS_ISSUER_KEY_DIR: z.string().min(1).default(join(dataDir, 'nats-issuer')),
  // The nats-server account the auth callout places integrators in.
  CV_NATS_INTEGRATORS_ACCOUNT: z
    .string()
    .regex(/^[A-Za-z0-9_-]+$/, 'letters, digits, - and _ only')
    .default('INTEGRATORS'),
  // How long one authorization of an integrator's connection lasts: the server then closes it, the
  // client reconnects and is authorized again, so a revoked credential is cut off within this time.
  CV_NATS_SESSION_SECONDS: positiveInt.max(86_400).default(900),
});

export const configSchema = configFields
  // A public key alone cannot sign, and a pair that does not match would refuse every token it signs.
  .superRefine((c, ctx) => {
    if (!c.CV_JWT_PUBLIC_KEY) return;
    if (!c.CV_JWT_PRIVATE_KEY) {
      ctx.addIssue({ code: 'custom', path: ['CV_JWT_PUBLIC_KEY'], message: 'set CV_JWT_PRIVATE_KEY too' });
      return;
    }
    if (!samePublicKey(c.CV_JWT_PRIVATE_KEY, c.CV_JWT_PUBLIC_KEY)) {
      ctx.addIssue({
        code: 'custom',
        path: ['CV_JWT_PUBLIC_KEY'],
        message: 'does not match CV_JWT_PRIVATE_KEY',
      });
    }
  });

export type Config = Readonly<z.infer<typeof configSchema>>;

export class ConfigError extends Error {
  constructor(readonly problems: readonly { variable: string; message: string }[]) {
    super(`invalid configuration:\n${problems.map((p) => `  ${p.variable}: ${p.message}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

/** Parses the environment; empty strings count as unset so `FOO= cmd` falls back to the default. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const present = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v !== ''));
  const parsed = configSchema.safeParse(present);
  if (parsed.success) return parsed.data;
  throw new ConfigError(
    parsed.error.issues.map((i) => ({ variable: String(i.path[0] ?? '(environment)'), message: i.message })),
  );
}
