// nats.js writes what a connection has queued at the end of the microtask checkpoint in which the
// first of it was queued. A process reacting to many messages sends its acks, publishes and
// requests from many async continuations, each after its own checkpoint, so nearly every one went
// out in a write system call of its own: under the heartbeat benchmark the socket writes were 12% of
// the scheduler's busy CPU and 11% of an executor's, and nats-server read as many small packets.
// Deferred to the end of the event loop's turn (setImmediate), everything queued in one turn goes
// in one write. Nothing waits longer than that turn; past the client's own threshold (32 KiB
// queued) it writes at once, as before.
//
// This reaches into the client's protocol handler (not a public API of @nats-io/nats-core 3.x). If
// its shape is not the one expected, the connection is left as it is: slower, never wrong.
import type { NatsConnection } from '@nats-io/transport-node';

interface ProtocolHandler {
  readonly outbound: { size(): number };
  readonly pendingLimit: number;
  flushPending(): void;
  close(err?: Error): Promise<void>;
}

function protocolOf(nc: NatsConnection): ProtocolHandler | undefined {
  const protocol = (nc as unknown as { protocol?: Partial<ProtocolHandler> }).protocol;
  if (
    typeof protocol?.flushPending !== 'function' ||
    typeof protocol.close !== 'function' ||
    typeof protocol.outbound?.size !== 'function' ||
    typeof protocol.pendingLimit !== 'number'
  ) {
    return undefined;
  }
  return protocol as ProtocolHandler;
}

/** Coalesces the connection's writes per event loop turn; true when it could. */
export function coalesceWrites(nc: NatsConnection): boolean {
  const protocol = protocolOf(nc);
  if (!protocol) return false;
  const flushNow = protocol.flushPending.bind(protocol);
  const close = protocol.close.bind(protocol);
  let scheduled = false;
  protocol.flushPending = () => {
    if (protocol.outbound.size() >= protocol.pendingLimit) {
      flushNow();
      return;
    }
    if (scheduled) return;
    scheduled = true;
    setImmediate(() => {
      scheduled = false;
      flushNow();
    });
  };
  // What is queued goes out before the connection closes (close does not wait for the turn to end).
  protocol.close = (err?: Error) => {
    flushNow();
    return close(err);
  };
  return true;
}
