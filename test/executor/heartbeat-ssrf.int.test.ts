// A HEARTBEAT cannot be pointed at the machines Chronoverse runs beside. With the default policy the
// check refuses loopback, link-local (cloud metadata) and private addresses, whether the URL names
// the address or a name that resolves to it when the connection is made, and nothing reaches the
// target; a redirect to an internal address is never followed; an operator's allow-list lets its
// own networks through.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HeartbeatClient } from '../../src/executor/heartbeat-runner.ts';
import type { RunContext } from '../../src/executor/run-result.ts';
import { EndpointPolicy } from '../../src/infra/endpoint-policy.ts';

let internal: Server;
let port: number;
const reached: string[] = [];

beforeAll(async () => {
  internal = createServer((req, res) => {
    reached.push(req.url ?? '');
    if (req.url === '/redirect') res.writeHead(302, { location: `http://127.0.0.1:${port}/secret` }).end();
    else res.writeHead(200).end('internal secret');
  });
  await new Promise<void>((r) => internal.listen(0, '0.0.0.0', r));
  port = (internal.address() as AddressInfo).port;
});
afterAll(() => {
  internal?.close();
});

function context() {
  const lines: string[] = [];
  const ctx: RunContext = {
    log: (_stream, line) => lines.push(line),
    canceled: new AbortController().signal,
    flow: { paused: false, onResume() {} },
  };
  return { ctx, lines };
}

describe('the HEARTBEAT endpoint policy, at connect time', () => {
  const guarded = new HeartbeatClient(new EndpointPolicy());

  it.each([
    ['loopback by address', () => `http://127.0.0.1:${port}/a`],
    ['loopback by a name that resolves to it', () => `http://localhost:${port}/b`],
    ['an IPv4-mapped IPv6 loopback', () => `http://[::ffff:127.0.0.1]:${port}/c`],
    ['IPv6 loopback', () => `http://[::1]:${port}/d`],
    ['the cloud metadata address', () => 'http://169.254.169.254/latest/meta-data/'],
    ['a private address', () => `http://10.255.255.1:${port}/e`],
  ])('refuses %s, and nothing reaches it', async (_, endpoint) => {
    const before = reached.length;
    const { ctx, lines } = context();
    const result = await guarded.run({ endpoint: endpoint(), timeout: '2s' }, ctx);
    expect(result).toMatchObject({ outcome: 'failed', failure_kind: 'USER', reason: 'endpoint_not_allowed' });
    expect(lines.at(-1)).toMatch(/may not reach; nothing was sent$/);
    expect(reached.length).toBe(before);
  });

  it('does not follow a redirect, so an allowed endpoint cannot send the check inside', async () => {
    // The allowed endpoint is this test's server on 127.0.0.2; its redirect names 127.0.0.1.
    const outside = new HeartbeatClient(new EndpointPolicy(['127.0.0.2']));
    const { ctx } = context();
    const result = await outside.run({ endpoint: `http://127.0.0.2:${port}/redirect` }, ctx);
    expect(result).toMatchObject({ outcome: 'failed', reason: 'status_mismatch' });
    expect(reached.filter((u) => u === '/secret')).toEqual([]);
  });

  it('lets an operator allow the networks it monitors', async () => {
    const monitored = new HeartbeatClient(new EndpointPolicy(['127.0.0.0/8']));
    const { ctx } = context();
    expect(await monitored.run({ endpoint: `http://localhost:${port}/ok` }, ctx)).toEqual({
      outcome: 'completed',
    });
    expect(reached).toContain('/ok');
  });
});
