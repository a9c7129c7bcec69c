// One NATS connection per process, with JetStream client and manager bound to it.
import { type JetStreamClient, type JetStreamManager, jetstream, jetstreamManager } from '@nats-io/jetstream';
import { connect, type NatsConnection } from '@nats-io/transport-node';

export interface Nats {
  readonly nc: NatsConnection;
  readonly js: JetStreamClient;
  readonly jsm: JetStreamManager;
}

export async function connectNats(servers: string, name: string): Promise<Nats> {
  const nc = await connect({
    servers: servers.split(','),
    name,
    maxReconnectAttempts: -1,
    reconnectTimeWait: 500,
    // By default every request pre-builds error objects with stack traces (~19% of CPU under load,
    // measured by bench/append.ts); errors still carry their message and cause without them.
    noAsyncTraces: true,
  });
  return { nc, js: jetstream(nc), jsm: await jetstreamManager(nc) };
}
