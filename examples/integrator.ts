// A worked example of a Chronoverse integrator: a durable JetStream consumer on CV_EVENTS filtered to
// one user's subjects (cv.evt.<userId>.>). The server remembers what was acknowledged, so after a
// restart the integrator resumes right after the last commit it acked: nothing lost, and nothing
// seen twice unless it was handled but not acked (handle idempotently, keyed by event id).
//
// With a credential issued by the API (docs/security.md): save the answer of
// POST /integrations/nats-credentials and name it. Its consumer already exists; the token may read it
// and nothing else.
//
//   curl -s -X POST http://127.0.0.1:8080/integrations/nats-credentials -H "authorization: Bearer $TOKEN" \
//     -H 'content-type: application/json' -d '{"name":"example"}' -o credential.json
//   NATS_URL=nats://nats.example.com:4222 CV_NATS_CREDENTIAL=credential.json node --import tsx examples/integrator.ts
//
// Without one, on a server with no permissions (the local stack, or docs/nats-integrator.conf with
// NATS_USER and NATS_PASSWORD), it creates its consumer itself:
//
//   NATS_URL=nats://127.0.0.1:14222 CV_USER_ID=<user id> node --import tsx examples/integrator.ts
import { AckPolicy, DeliverPolicy, type JetStreamManager, jetstream, jetstreamManager } from '@nats-io/jetstream';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { readFileSync } from 'node:fs';

export const EVENTS_STREAM = 'CV_EVENTS';

/** One event as integrators receive it (see docs/events.md). */
export interface IntegratorEvent {
  readonly id: string;
  readonly type: string;
  readonly version: number;
  readonly aggregate: 'user' | 'workflow' | 'job';
  readonly aggregateId: string;
  readonly userId: string;
  readonly occurredAt: string;
  readonly correlationId: string;
  readonly causationId: string;
  readonly data: Record<string, unknown>;
}

/** A commit: the events one command decided, with its stream sequence (the resume position). */
export interface IntegratorCommit {
  readonly sequence: number;
  readonly subject: string;
  readonly events: readonly IntegratorEvent[];
}

/** The answer of POST /integrations/nats-credentials (the fields this example uses). */
export interface IssuedCredential {
  readonly token: string;
  readonly user_id: string;
  readonly inbox_prefix: string;
  readonly api_prefix: string;
  readonly consumers: readonly { readonly stream: string; readonly name: string }[];
}

export const durableName = (userId: string): string => `integrator-${userId}`;

/** The inbox prefix the integrator's credentials allow (replies of JetStream API calls arrive there). */
export const inboxPrefix = (userId: string): string => `_INBOX_${userId}`;

export async function connectIntegrator(
  servers: string,
  userId: string,
  auth: { user?: string; pass?: string } = {},
): Promise<NatsConnection> {
  return connect({
    servers: servers.split(','),
    name: `integrator-${userId}`,
    inboxPrefix: inboxPrefix(userId),
    ...(auth.user ? { user: auth.user, pass: auth.pass ?? '' } : {}),
  });
}

/** Connects with an issued credential: its token, and the inbox prefix its permissions allow. */
export async function connectWithCredential(servers: string, credential: IssuedCredential): Promise<NatsConnection> {
  return connect({
    servers: servers.split(','),
    name: `integrator-${credential.user_id}`,
    token: credential.token,
    inboxPrefix: credential.inbox_prefix,
    // The server ends an integrator's authorization every CV_NATS_SESSION_SECONDS; the client
    // reconnects, is authorized again, and the consumer goes on where it was.
    maxReconnectAttempts: -1,
  });
}

/** Where runIntegrator reads: an issued credential's consumer, or one it creates itself. */
export interface IntegratorOptions {
  /** The consumer's name (an issued credential's CV_EVENTS consumer); unset: durableName(userId), created here. */
  readonly consumer?: string;
  /** The JetStream API prefix (an issued credential's api_prefix). */
  readonly apiPrefix?: string;
}

/**
 * Creates the durable consumer if it does not exist yet; an existing one keeps its acknowledged
 * position. The filter is part of the API subject ($JS.API.CONSUMER.CREATE.<stream>.<name>.<filter>),
 * which is what lets NATS permissions pin an integrator to its own events.
 */
export async function ensureConsumer(jsm: JetStreamManager, userId: string): Promise<void> {
  await jsm.consumers.add(EVENTS_STREAM, {
    durable_name: durableName(userId),
    filter_subject: `cv.evt.${userId}.>`,
    ack_policy: AckPolicy.Explicit,
    // The first start reads the user's whole history; later starts resume after the last ack.
    deliver_policy: DeliverPolicy.All,
    ack_wait: 30_000_000_000,
    max_ack_pending: 1000,
  });
}

/**
 * Hands every commit to `handle` in order, acking each one after `handle` returns; resolves when
 * `signal` aborts. A commit whose handler throws is not acked and comes again after ack_wait.
 */
export async function runIntegrator(
  nc: NatsConnection,
  userId: string,
  handle: (commit: IntegratorCommit) => Promise<void> | void,
  signal: AbortSignal,
  options: IntegratorOptions = {},
): Promise<void> {
  if (options.consumer === undefined) await ensureConsumer(await jetstreamManager(nc, { checkAPI: false }), userId);
  const js = jetstream(nc, options.apiPrefix === undefined ? {} : { apiPrefix: options.apiPrefix });
  const consumer = await js.consumers.get(EVENTS_STREAM, options.consumer ?? durableName(userId));
  // One commit at a time keeps the order even when a handler fails and the commit is redelivered.
  const messages = await consumer.consume({ max_messages: 1 });
  const stop = () => messages.stop();
  signal.addEventListener('abort', stop, { once: true });
  try {
    for await (const m of messages) {
      const events = m.json<IntegratorEvent[]>();
      try {
        await handle({ sequence: m.seq, subject: m.subject, events });
        await m.ackAck();
      } catch (err) {
        console.error(`commit ${m.seq} not handled; it will come again`, err);
        m.nak(5_000);
      }
      if (signal.aborted) break;
    }
  } finally {
    signal.removeEventListener('abort', stop);
    messages.stop();
  }
}

async function main(): Promise<void> {
  const servers = process.env.NATS_URL ?? 'nats://127.0.0.1:14222';
  const file = process.env.CV_NATS_CREDENTIAL;
  const credential = file ? (JSON.parse(readFileSync(file, 'utf8')) as IssuedCredential) : undefined;
  const userId = credential?.user_id ?? process.env.CV_USER_ID;
  if (!userId) throw new Error('set CV_NATS_CREDENTIAL to an issued credential, or CV_USER_ID');
  const nc = credential
    ? await connectWithCredential(servers, credential)
    : await connectIntegrator(servers, userId, {
        ...(process.env.NATS_USER ? { user: process.env.NATS_USER } : {}),
        ...(process.env.NATS_PASSWORD ? { pass: process.env.NATS_PASSWORD } : {}),
      });
  const options: IntegratorOptions = credential
    ? {
        consumer: credential.consumers.find((c) => c.stream === EVENTS_STREAM)?.name,
        apiPrefix: credential.api_prefix,
      }
    : {};
  const abort = new AbortController();
  process.once('SIGINT', () => abort.abort());
  process.once('SIGTERM', () => abort.abort());
  console.error(
    `following cv.evt.${userId}.> as durable ${options.consumer ?? durableName(userId)}; Ctrl-C stops, a restart resumes`,
  );
  await runIntegrator(
    nc,
    userId,
    (commit) => {
      for (const e of commit.events)
        console.log(JSON.stringify({ sequence: commit.sequence, type: e.type, id: e.aggregateId, at: e.occurredAt }));
    },
    abort.signal,
    options,
  );
  await nc.drain();
}

if (import.meta.url === `file://${process.argv[1]}`) {
  main().catch((err: unknown) => {
    console.error(err);
    process.exit(1);
  });
}
