// A connection made by connectNats writes what it queued in one event loop turn in one write
// (src/infra/nats-write-coalescing.ts): messages sent from many async continuations still all
// arrive, in order, and what was queued just before a close is not lost.
import type { NatsConnection } from '@nats-io/transport-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectNats, type Nats } from '../../src/infra/nats-connection.ts';
import { startNatsServer, type TestNatsServer } from '../support/nats-server.ts';

let server: TestNatsServer;
let receiver: Nats;

beforeAll(async () => {
  server = await startNatsServer();
  receiver = await connectNats(server.url, 'coalescing-receiver');
});

afterAll(async () => {
  await receiver?.nc.close();
  await server?.dispose();
});

/** Collects the payloads published on `subject` until `count` have arrived. */
async function collect(subject: string, count: number): Promise<{ done: Promise<string[]> }> {
  const got: string[] = [];
  let resolve!: (v: string[]) => void;
  const done = new Promise<string[]>((r) => {
    resolve = r;
  });
  receiver.nc.subscribe(subject, {
    callback: (_err, m) => {
      got.push(m.string());
      if (got.length === count) resolve(got);
    },
  });
  await receiver.nc.flush();
  return { done };
}

/** Counts the connection's writes to its socket (the transport's `send`, one write each). */
function countWrites(nc: NatsConnection): { readonly count: () => number } {
  const transport = (nc as unknown as { protocol: { transport: { send(frame: Uint8Array): void } } }).protocol
    .transport;
  const send = transport.send.bind(transport);
  let writes = 0;
  transport.send = (frame) => {
    writes++;
    send(frame);
  };
  return { count: () => writes };
}

describe('write coalescing', () => {
  it('sends what many continuations publish in one turn in one write, every message in order', async () => {
    const sender = await connectNats(server.url, 'coalescing-sender');
    try {
      const { done } = await collect('coalesce.turn', 200);
      const writes = countWrites(sender.nc);
      // Each publish after an await of its own: nats.js alone wrote after each microtask checkpoint.
      await Promise.all(
        Array.from({ length: 200 }, async (_, i) => {
          for (let hop = 0; hop < i % 7; hop++) await Promise.resolve();
          sender.nc.publish('coalesce.turn', String(i));
        }),
      );
      await new Promise((r) => setImmediate(r));
      expect(writes.count()).toBeLessThanOrEqual(2);
      const got = await done;
      // In the order they were published (the order of the continuations), none lost.
      const sent: string[] = [];
      for (let hop = 0; hop < 7; hop++) for (let i = 0; i < 200; i++) if (i % 7 === hop) sent.push(String(i));
      expect(got).toEqual(sent);
    } finally {
      await sender.nc.close();
    }
  });

  it('writes at once past 32 KiB queued, and every message arrives', async () => {
    const sender = await connectNats(server.url, 'coalescing-sender');
    try {
      const { done } = await collect('coalesce.big', 100);
      const writes = countWrites(sender.nc);
      const kib = 'x'.repeat(1024);
      for (let i = 0; i < 100; i++) sender.nc.publish('coalesce.big', `${i}:${kib}`);
      // ~100 KiB queued synchronously: written in the same turn, in pieces, not held back.
      expect(writes.count()).toBeGreaterThanOrEqual(2);
      const got = await done;
      expect(got.map((m) => Number(m.split(':')[0]))).toEqual(Array.from({ length: 100 }, (_, i) => i));
    } finally {
      await sender.nc.close();
    }
  });

  it('sends what was queued before a close', async () => {
    const sender = await connectNats(server.url, 'coalescing-closer');
    const { done } = await collect('coalesce.close', 10);
    for (let i = 0; i < 10; i++) sender.nc.publish('coalesce.close', String(i));
    await sender.nc.close();
    expect(await done).toEqual(Array.from({ length: 10 }, (_, i) => String(i)));
  });

  it('answers requests and JetStream publishes as before', async () => {
    const sender = await connectNats(server.url, 'coalescing-requester');
    try {
      receiver.nc.subscribe('coalesce.echo', { callback: (_err, m) => void m.respond(m.data) });
      await receiver.nc.flush();
      const answers = await Promise.all(
        Array.from({ length: 50 }, (_, i) =>
          sender.nc.request('coalesce.echo', String(i), { timeout: 5000 }),
        ),
      );
      expect(answers.map((m) => m.string())).toEqual(Array.from({ length: 50 }, (_, i) => String(i)));
      await sender.jsm.streams.add({ name: 'COALESCE', subjects: ['coalesce.js.>'] });
      const acks = await Promise.all(
        Array.from({ length: 50 }, (_, i) => sender.js.publish(`coalesce.js.${i}`, String(i))),
      );
      expect(acks.map((a) => a.seq).sort((a, b) => a - b)).toEqual(
        Array.from({ length: 50 }, (_, i) => i + 1),
      );
    } finally {
      await sender.nc.close();
    }
  });
});
