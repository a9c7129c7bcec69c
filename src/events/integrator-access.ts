// What an integrator's NATS credential may do, and the nats-server accounts that make it hold.
//
// Chronoverse's streams live in one account (CHRONOVERSE by default). Integrators connect into a
// second account (INTEGRATORS) that has no JetStream of its own and imports from the first only what
// reading needs: the live event and log subjects, and the JetStream API subjects of a consumer (info,
// next messages, acks). Each integrator's permissions then pin those to its own user and its own
// consumers. Two accounts, not one, because a request's reply subject is not checked against any
// permission: in one shared account an integrator could send its consumer's answers to
// `cv.logs.<another user>.…` or `cv.dispatch.…`, where a stream would store them. Across the import,
// answers come back into the integrators' account, where no stream listens.
//
// The consumers are created by the API when it issues a credential (pull, filtered, explicit acks),
// never by the integrator: a consumer the integrator could create could also be a push consumer whose
// deliver subject writes into another stream.
import {
  AckPolicy,
  type ConsumerConfig,
  DeliverPolicy,
  JetStreamApiCodes,
  JetStreamApiError,
  type JetStreamManager,
} from '@nats-io/jetstream';
import { UnavailableError } from '../errors.ts';
import { streamNames } from './stream-definitions.ts';
import { userEventsFilter, userLogsFilter } from './subjects.ts';

/** The account Chronoverse's processes and streams use; integrators' imports come from it. */
export const DEFAULT_CHRONOVERSE_ACCOUNT = 'CHRONOVERSE';
/** The account integrators are placed in by the auth callout. */
export const DEFAULT_INTEGRATORS_ACCOUNT = 'INTEGRATORS';

/**
 * The JetStream API prefix integrators use (`jetstream(nc, { apiPrefix })`). Their account imports the
 * few API subjects it needs under this prefix: under their own names ($JS.API.…) the server's answer
 * for an account without JetStream ("JetStream not enabled for account") would come first.
 */
export const INTEGRATOR_API_PREFIX = '$CV.API';

/** The streams an integrator reads, each through a consumer of its own. */
const READ_STREAMS = [streamNames.events, streamNames.logs] as const;

export interface IntegratorConsumer {
  readonly stream: string;
  readonly name: string;
  readonly filter_subject: string;
}

export interface IntegratorAccess {
  readonly userId: string;
  readonly credentialId: string;
  /** The inbox prefix to connect with: JetStream API answers and pulled messages arrive under it. */
  readonly inboxPrefix: string;
  /** The JetStream API prefix to use (INTEGRATOR_API_PREFIX). */
  readonly apiPrefix: string;
  /** Live subjects (core NATS subscriptions). */
  readonly subjects: { readonly events: string; readonly logs: string };
  /** Durable pull consumers, created by the API, one per stream. */
  readonly consumers: readonly IntegratorConsumer[];
  /** The credential's NATS permissions, in the integrators' account. Everything else is denied. */
  readonly permissions: { readonly publish: readonly string[]; readonly subscribe: readonly string[] };
}

export function integratorConsumerName(credentialId: string): string {
  return `integrator-${credentialId}`;
}

/** Everything one credential (`credentialId`, of user `userId`) may read, and how. */
export function integratorAccess(userId: string, credentialId: string): IntegratorAccess {
  if (!/^[A-Za-z0-9-]+$/.test(credentialId)) throw new Error(`not a credential id: ${credentialId}`);
  const name = integratorConsumerName(credentialId);
  const events = userEventsFilter(userId);
  const logs = userLogsFilter(userId);
  const inboxPrefix = `_INBOX_${credentialId}`;
  const consumers = READ_STREAMS.map((stream) => ({
    stream,
    name,
    filter_subject: stream === streamNames.events ? events : logs,
  }));
  return {
    userId,
    credentialId,
    inboxPrefix,
    apiPrefix: INTEGRATOR_API_PREFIX,
    subjects: { events, logs },
    consumers,
    permissions: {
      publish: consumers.flatMap((c) => [
        // Look the consumer up (consumers.get, and the client's check after missed heartbeats).
        `${INTEGRATOR_API_PREFIX}.CONSUMER.INFO.${c.stream}.${c.name}`,
        // Pull the next batch (consume() / fetch()).
        `${INTEGRATOR_API_PREFIX}.CONSUMER.MSG.NEXT.${c.stream}.${c.name}`,
        // Ack, nak, working, term: a publish to the message's reply subject $JS.ACK.<stream>.<consumer>.…
        `$JS.ACK.${c.stream}.${c.name}.>`,
      ]),
      subscribe: [events, logs, `${inboxPrefix}.>`],
    },
  };
}

function consumerConfig(c: IntegratorConsumer): Partial<ConsumerConfig> & { durable_name: string } {
  return {
    durable_name: c.name,
    filter_subject: c.filter_subject,
    ack_policy: AckPolicy.Explicit,
    // The first read starts at the oldest message the stream holds: the user's whole history of
    // events, the log lines the buffer still has.
    deliver_policy: DeliverPolicy.All,
    ack_wait: 30_000_000_000,
    max_ack_pending: 1000,
    description: 'An integrator credential (POST /integrations/nats-credentials)',
  };
}

/** A failure of JetStream while handling an integrator's consumers: NATS did not serve, try again. */
function outage(err: unknown): UnavailableError {
  return new UnavailableError('event_log_unavailable', 'NATS did not answer (integrator consumers)', {
    cause: err,
  });
}

/** Creates the credential's consumers; an existing one (same configuration) is kept as it is. */
export async function createIntegratorConsumers(
  jsm: JetStreamManager,
  access: IntegratorAccess,
): Promise<void> {
  try {
    for (const c of access.consumers) await jsm.consumers.add(c.stream, consumerConfig(c));
  } catch (err) {
    throw outage(err);
  }
}

/** Deletes the credential's consumers; one already gone is not an error. */
export async function deleteIntegratorConsumers(
  jsm: JetStreamManager,
  access: IntegratorAccess,
): Promise<void> {
  for (const c of access.consumers) {
    try {
      await jsm.consumers.delete(c.stream, c.name);
    } catch (err) {
      if (err instanceof JetStreamApiError && err.code === JetStreamApiCodes.ConsumerNotFound) continue;
      throw outage(err);
    }
  }
}

export interface IntegratorServerConfigOptions {
  /** The public key (A…) of the account nkey that signs integrators' user JWTs. */
  readonly issuerPublicKey: string;
  /** The password of the `chronoverse` user (NATS_URL nats://chronoverse:<password>@host:port). */
  readonly chronoversePassword: string;
  readonly chronoverseAccount?: string;
  readonly integratorsAccount?: string;
  /** Where JetStream keeps its files (nats-server's default is a temporary directory). */
  readonly storeDir?: string;
  /** Lines placed first (listen, monitoring, tls …). */
  readonly preamble?: string;
}

const quote = (s: string) => JSON.stringify(s);

/**
 * The accounts and auth callout of a nats-server serving Chronoverse and its integrators. Chronoverse's
 * processes connect as `chronoverse` (exempt from the callout); every other connection is decided by
 * the API's auth callout, which places a valid integrator credential in the integrators' account.
 */
export function integratorServerConfig(options: IntegratorServerConfigOptions): string {
  const cv = options.chronoverseAccount ?? DEFAULT_CHRONOVERSE_ACCOUNT;
  const integrators = options.integratorsAccount ?? DEFAULT_INTEGRATORS_ACCOUNT;
  const live = ['cv.evt.>', 'cv.logs.>'];
  const services = READ_STREAMS.flatMap((s) => [
    { subject: `CONSUMER.INFO.${s}.*`, api: true, stream: false },
    // One pull request is answered by many messages (a batch, heartbeats, a timeout status).
    { subject: `CONSUMER.MSG.NEXT.${s}.*`, api: true, stream: true },
    // Acks go to the reply subject of each message, which names the stream's own $JS.ACK subject.
    { subject: `$JS.ACK.${s}.*.>`, api: false, stream: false },
  ]);
  const exported = (s: (typeof services)[number]) => (s.api ? `$JS.API.${s.subject}` : s.subject);
  const exports = [
    ...live.map((s) => `      { stream: ${quote(s)}, accounts: [${integrators}] }`),
    ...services.map(
      (s) =>
        `      { service: ${quote(exported(s))}, accounts: [${integrators}]${s.stream ? ', response_type: stream' : ''} }`,
    ),
  ];
  const imports = [
    ...live.map((s) => `      { stream: { account: ${cv}, subject: ${quote(s)} } }`),
    ...services.map(
      (s) =>
        `      { service: { account: ${cv}, subject: ${quote(exported(s))} }${s.api ? `, to: ${quote(`${INTEGRATOR_API_PREFIX}.${s.subject}`)}` : ''} }`,
    ),
  ];
  return `# nats-server configuration for Chronoverse with integrator credentials issued by its API
# (generated by \`chronoverse nats-config\`; see docs/security.md).
${options.preamble ?? ''}
jetstream {${options.storeDir === undefined ? '' : ` store_dir: ${quote(options.storeDir)} `}}

accounts {
  ${cv} {
    jetstream: enabled
    users: [
      # Chronoverse's processes: NATS_URL=nats://chronoverse:<password>@<host>:<port>
      { user: chronoverse, password: ${quote(options.chronoversePassword)} }
    ]
    # What integrators may import; their own permissions narrow it to their user and consumers.
    exports: [
${exports.join('\n')}
    ]
  }
  ${integrators} {
    # No JetStream and no users of its own: the auth callout places integrators here.
    imports: [
${imports.join('\n')}
    ]
  }
}

authorization {
  auth_callout {
    # The account key of the Chronoverse API (CV_NATS_ISSUER_SEED or CV_NATS_ISSUER_KEY_DIR).
    issuer: ${options.issuerPublicKey}
    account: ${cv}
    auth_users: [ chronoverse ]
  }
}
`;
}
