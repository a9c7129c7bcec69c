// A worked example of a Chronoverse integrator: a durable JetStream consumer on CV_EVENTS filtered to
// one user's subjects (cv.evt.<userId>.>). The server remembers what was acknowledged, so after a
// restart the integrator resumes right after the last commit it acked: nothing lost, and nothing
// seen twice unless it was handled but not acked (handle idempotently, keyed by event id).
//
//   NATS_URL=nats://127.0.0.1:14222 CV_USER_ID=<user id> node --import tsx examples/integrator.ts
//
// With the restricted credentials of docs/nats-integrator.conf, also set NATS_USER and NATS_PASSWORD.
import { AckPolicy, DeliverPolicy, type JetStreamManager, jetstream, jetstreamManager } from '@nats-io/jetstream';
import { connect, type NatsConnection } from '@nats-io/transport-node';

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
): Promise<void> {
  const jsm = await jetstreamManager(nc, { checkAPI: false });
  await ensureConsumer(jsm, userId);
  const consumer = await jetstream(nc).consumers.get(EVENTS_STREAM, durableName(userId));
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
  const userId = process.env.CV_USER_ID;
  if (!userId) throw new Error('set CV_USER_ID to the user whose events to follow');
  const nc = await connectIntegrator(process.env.NATS_URL ?? 'nats://127.0.0.1:14222', userId, {
    ...(process.env.NATS_USER ? { user: process.env.NATS_USER } : {}),
    ...(process.env.NATS_PASSWORD ? { pass: process.env.NATS_PASSWORD } : {}),
  });
  const abort = new AbortController();
  process.once('SIGINT', () => abort.abort());
  process.once('SIGTERM', () => abort.abort());
  console.error(`following cv.evt.${userId}.> as durable ${durableName(userId)}; Ctrl-C stops, a restart resumes`);
  await runIntegrator(
    nc,
    userId,
    (commit) => {
      for (const e of commit.events)
        console.log(JSON.stringify({ sequence: commit.sequence, type: e.type, id: e.aggregateId, at: e.occurredAt }));
    },
    abort.signal,
  );
  await nc.drain();
}

if (import.meta.url === `file://${process.argv[1]}`) {
  main().catch((err: unknown) => {
    console.error(err);
    process.exit(1);
  });
}
