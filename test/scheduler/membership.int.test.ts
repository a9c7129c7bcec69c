// Scheduler replicas find each other through a KV bucket whose entries expire: a replica that
// leaves drops out at the next heartbeat, one that dies within the TTL, and heartbeats leave nothing
// behind on the server.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { connectNats, type Nats } from '../../src/infra/nats-connection.ts';
import { MEMBERSHIP_BUCKET, SchedulerMembership } from '../../src/scheduler/membership.ts';
import { waitUntil } from '../../src/stack/process-control.ts';
import { startNatsServer, type TestNatsServer } from '../support/nats-server.ts';

let server: TestNatsServer;
let nats: Nats;

beforeAll(async () => {
  server = await startNatsServer();
  nats = await connectNats(server.url, 'test');
});

afterAll(async () => {
  await nats?.nc.close();
  await server?.dispose();
});

it('sees joins, leaves and deaths, and keeps no consumer per heartbeat', async () => {
  const options = { ttlMs: 1500, heartbeatMs: 100 };
  const a = new SchedulerMembership(nats.nc, 'a', options);
  const b = new SchedulerMembership(nats.nc, 'b', options);
  const c = new SchedulerMembership(nats.nc, 'c', options);
  await a.join();
  await b.join();
  await c.join();
  await waitUntil('all three seen', async () => a.members.join() === 'a,b,c', 5000);

  await b.leave(); // graceful: gone at the next heartbeat, not after the TTL
  await waitUntil('b gone', async () => a.members.join() === 'a,c', 1000);

  // c dies: its timer stops, its key expires with the TTL.
  (c as unknown as { timer: NodeJS.Timeout }).timer.close();
  await waitUntil('c expired', async () => a.members.join() === 'a', 5000);

  // Dozens of heartbeats later, the bucket's stream has no consumers left behind.
  const consumers = [];
  for await (const ci of nats.jsm.consumers.list(`KV_${MEMBERSHIP_BUCKET}`)) consumers.push(ci.name);
  expect(consumers).toEqual([]);
  await a.leave();
});
