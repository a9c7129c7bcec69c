// One NATS connection per process, with JetStream client and manager bound to it.
import { type JetStreamClient, type JetStreamManager, jetstream, jetstreamManager } from '@nats-io/jetstream';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { skipErrorsForAnsweredRequests } from './nats-request-settled.ts';
import { coalesceWrites } from './nats-write-coalescing.ts';

export interface Nats {
  readonly nc: NatsConnection;
  readonly js: JetStreamClient;
  readonly jsm: JetStreamManager;
}

export interface NatsServers {
  readonly servers: string[];
  /** From `nats://user:password@host:port` (the client takes them apart from the address). */
  readonly user?: string;
  readonly pass?: string;
}

/**
 * Comma-separated server URLs, some of which may carry the user and password to connect with (as
 * the Go client and the nats CLI accept them): a server configured for integrators (docs/security.md)
 * wants Chronoverse's processes to log in as `chronoverse`. The addresses keep no credentials.
 */
export function parseNatsServers(urls: string): NatsServers {
  let auth: { user: string; pass: string } | undefined;
  const servers = urls.split(',').map((raw) => {
    const m = /^([a-z]+:\/\/)?([^@/]*)@(.+)$/i.exec(raw.trim());
    if (!m) return raw.trim();
    const userinfo = m[2]!;
    const colon = userinfo.indexOf(':');
    const user = decodeURIComponent(colon < 0 ? userinfo : userinfo.slice(0, colon));
    const pass = colon < 0 ? '' : decodeURIComponent(userinfo.slice(colon + 1));
    if (auth && (auth.user !== user || auth.pass !== pass)) {
      throw new Error('NATS_URL names different credentials for different servers');
    }
    auth = { user, pass };
    return `${m[1] ?? ''}${m[3]}`;
  });
  return auth ? { servers, ...auth } : { servers };
}

/**
 * How long each pull of a long-running `consume()` lasts. It is also how long nats.js waits before it
 * looks again for a consumer it could not find after a reconnect: its backoff there is this value,
 * 30 s by default. A nats-server restarted under load may answer the first look before JetStream is
 * back: with the default, the projector's consumer stalled for 46 s after a restart of 0.2 s (the
 * read models frozen meanwhile; test/platform/store-faults-nats.e2e.test.ts), and the reactors'
 * durable consumers take the same path. With 5 s the pull is renewed a little more often while idle,
 * and a lost consumer is found again within seconds.
 */
export const CONSUME_EXPIRES_MS = 5000;

export const NATS_PING_INTERVAL_MS = 5000;

export async function connectNats(urls: string, name: string): Promise<Nats> {
  const { servers, user, pass } = parseNatsServers(urls);
  skipErrorsForAnsweredRequests();
  const nc = await connect({
    servers,
    ...(user === undefined ? {} : { user, pass: pass ?? '' }),
    name,
    maxReconnectAttempts: -1,
    reconnectTimeWait: 500,
    // A server cut off by the network (not stopped: no reset ever arrives) is only noticed by missed
    // pings. nats.js pings every 2 minutes, so a process connected to the cut node stalled for minutes
    // while the other two nodes served on (test/platform/nats-partition.e2e.test.ts); every 5 s with
    // two missed it moves to a reachable node within ~15 s, for one small frame per 5 s per connection.
    pingInterval: NATS_PING_INTERVAL_MS,
    maxPingOut: 2,
    // By default every request pre-builds error objects with stack traces (~19% of CPU under load,
    // measured by bench/append.ts); errors still carry their message and cause without them.
    noAsyncTraces: true,
  });
  coalesceWrites(nc);
  try {
    return { nc, js: jetstream(nc), jsm: await jetstreamManager(nc) };
  } catch (err) {
    // JetStream did not answer (a cluster still electing): the caller may connect again, and this
    // connection, reconnecting forever, would be left open beside the next one.
    await nc.close().catch(() => {});
    throw err;
  }
}

/**
 * The replica count new streams and KV buckets get: CV_NATS_REPLICAS when set, otherwise 3 when the
 * server says it is part of a cluster and 1 when it stands alone. An existing stream keeps the count
 * it has (src/migrate/jetstream-topology.ts; scaling one is the procedure in docs/deployment.md).
 */
export function natsReplicas(
  configured: number | undefined,
  server: { cluster?: string } | undefined,
): number {
  if (configured !== undefined) return configured;
  return server?.cluster ? 3 : 1;
}

/**
 * `call` asked again for about 40 s: on a cluster a KV bucket or stream just created has no leader
 * for a moment, and a request meanwhile is answered "jetstream not enabled" (no responder) or times
 * out. For what a process does once at start (its first heartbeat, taking its executor id).
 */
export async function untilLeaderAnswers<T>(call: () => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await call();
    } catch (err) {
      if (attempt >= LEADER_ANSWER_ATTEMPTS) throw err;
      await new Promise((r) => setTimeout(r, 250 * Math.min(attempt, 8)));
    }
  }
}

/** About 40 s of tries: longer than a leader election of a loaded 3-node cluster takes. */
const LEADER_ANSWER_ATTEMPTS = 25;
