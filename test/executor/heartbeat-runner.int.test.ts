// The HEARTBEAT request itself against a real HTTP server in this process: what is sent, what is kept
// of the answer, and how a slow, endless or canceled answer ends.
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HeartbeatClient, runHeartbeat as run } from '../../src/executor/heartbeat-runner.ts';
import type { RunContext } from '../../src/executor/run-result.ts';
import { EndpointPolicy } from '../../src/infra/endpoint-policy.ts';

// The endpoints here are servers on this machine: a client whose policy lets loopback through.
const local = new HeartbeatClient(new EndpointPolicy(['127.0.0.0/8']));
const runHeartbeat = (payload: Record<string, unknown>, ctx: RunContext) => run(payload, ctx, local);

let server: Server;
let base: string;
const seen: IncomingMessage[] = [];
const sockets = new Set<Socket>();

beforeAll(async () => {
  server = createServer((req, res) => {
    seen.push(req);
    const url = req.url ?? '';
    if (url === '/big') {
      // 10 MiB, far more than the excerpt: only the start may be read.
      res.writeHead(200, { 'content-type': 'text/plain' });
      const chunk = `${'x'.repeat(1000)}\n`;
      let sent = 0;
      const write = () => {
        while (sent < 10_000) {
          sent++;
          if (!res.write(chunk)) return res.once('drain', write);
        }
        res.end();
      };
      return write();
    }
    if (url === '/endless') {
      res.writeHead(200);
      res.write('starting…');
      return; // never ends
    }
    if (url === '/closing') {
      // The server's side of an idle keep-alive timeout racing the client's reuse: every connection
      // answers its first request and is closed, unanswered, at the next.
      const socket = req.socket as Socket & { served?: number };
      socket.served = (socket.served ?? 0) + 1;
      if (socket.served > 1) return socket.destroy();
      return res.writeHead(200).end('fresh');
    }
    if (url === '/redirect') return res.writeHead(302, { location: '/ok' }).end();
    if (url === '/slow') return setTimeout(() => res.writeHead(200).end('late'), 3000);
    res.writeHead(200).end('  all\n\tgood  ');
  });
  server.on('connection', (s) => sockets.add(s));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise((r) => server.close(r));
});

function context(canceled = new AbortController().signal) {
  const lines: string[] = [];
  const ctx: RunContext = {
    log: (stream, line) => lines.push(`${stream}: ${line}`),
    canceled,
    flow: { paused: false, onResume: () => {} },
  };
  return { ctx, lines };
}

describe('HEARTBEAT request', () => {
  it("sends the payload's headers, one or several values each, and keeps a trimmed excerpt of the body", async () => {
    const { ctx, lines } = context();
    const result = await runHeartbeat(
      { endpoint: `${base}/ok`, headers: { 'x-probe': 'cv', 'x-many': ['a', 'b'] } },
      ctx,
    );
    expect(result).toEqual({ outcome: 'completed' });
    const req = seen.at(-1)!;
    expect(req.method).toBe('GET');
    expect(req.headers['x-probe']).toBe('cv');
    expect(req.headers['x-many']).toBe('a, b');
    expect(lines).toEqual([
      `stdout: GET ${base}/ok`,
      expect.stringMatching(/^stdout: status 200 in \d+ ms \(expected 200\)$/),
      'stdout: body: all good',
    ]);
  });

  it('reads no more than the excerpt of a large body, and does not follow redirects', async () => {
    const { ctx, lines } = context();
    const started = Date.now();
    expect(await runHeartbeat({ endpoint: `${base}/big` }, ctx)).toEqual({ outcome: 'completed' });
    expect(Date.now() - started).toBeLessThan(2000);
    const body = lines.find((l) => l.startsWith('stdout: body: '))!;
    expect(body.length - 'stdout: body: '.length).toBeLessThanOrEqual(1024);

    const redirected = await runHeartbeat({ endpoint: `${base}/redirect` }, context().ctx);
    expect(redirected).toMatchObject({ outcome: 'failed', reason: 'status_mismatch' });
  });

  it('times out a body that never ends, and an answer that never comes', async () => {
    const endless = context();
    expect(await runHeartbeat({ endpoint: `${base}/endless`, timeout: '300ms' }, endless.ctx)).toMatchObject({
      outcome: 'failed',
      failure_kind: 'USER',
      reason: 'timeout',
    });
    expect(endless.lines.at(-1)).toBe('stderr: no answer within 300 ms');
    expect(await runHeartbeat({ endpoint: `${base}/slow`, timeout: '300ms' }, context().ctx)).toMatchObject({
      reason: 'timeout',
    });
  });

  it('ends as canceled when the job is canceled mid-request', async () => {
    const cancel = new AbortController();
    const pending = runHeartbeat({ endpoint: `${base}/slow` }, context(cancel.signal).ctx);
    setTimeout(() => cancel.abort(), 100);
    const started = Date.now();
    expect(await pending).toEqual({ outcome: 'canceled' });
    expect(Date.now() - started).toBeLessThan(1000);
  });

  it('sends a check again on another connection when a kept-alive one is closed as it is reused', async () => {
    for (let i = 0; i < 3; i++) {
      const { ctx, lines } = context();
      expect(await runHeartbeat({ endpoint: `${base}/closing` }, ctx)).toEqual({ outcome: 'completed' });
      expect(lines.at(-1)).toBe('stdout: body: fresh');
    }
  });

  it('reuses its connection for the next check of the same host', async () => {
    await runHeartbeat({ endpoint: `${base}/ok` }, context().ctx);
    const before = sockets.size;
    for (let i = 0; i < 5; i++) await runHeartbeat({ endpoint: `${base}/ok` }, context().ctx);
    expect(sockets.size).toBe(before);
  });
});
