// The webhook sender against a real local HTTP server: 2xx is a success and anything else a failure
// with its status; a redirect is not followed; the address guard holds on the literal address and on
// the address a name resolves to at connection time (localhost is loopback: refused unless allowed);
// a receiver slower than the timeout is a failure.
import { createServer, type Server } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EndpointPolicy } from '../../src/infra/endpoint-policy.ts';
import { WebhookSender } from '../../src/reactors/webhook-sender.ts';

let server: Server;
let port = 0;
const hits: string[] = [];

beforeAll(async () => {
  server = createServer((req, res) => {
    hits.push(req.url ?? '');
    if (req.url === '/redirect') res.writeHead(302, { location: '/ok' }).end();
    else if (req.url === '/slow') setTimeout(() => res.writeHead(200).end(), 1500);
    else if (req.url === '/gone') res.writeHead(410).end();
    else res.writeHead(200).end('fine');
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  port = (server.address() as { port: number }).port;
});
afterAll(async () => {
  server.closeAllConnections();
  await new Promise((r) => server.close(r));
});

const post = (path: string, host = '127.0.0.1') => ({
  url: `http://${host}:${port}${path}`,
  headers: { 'content-type': 'application/json' },
  body: '{}',
});

describe('the webhook sender', () => {
  const allowed = new WebhookSender(new EndpointPolicy(['127.0.0.1']), 1000);
  const closed = new WebhookSender(new EndpointPolicy(), 1000);
  afterAll(() => {
    allowed.close();
    closed.close();
  });

  it('counts a 2xx as delivered and any other answer, a redirect included, as failed', async () => {
    expect(await allowed.send(post('/ok'))).toEqual({ ok: true, status: 200 });
    expect(await allowed.send(post('/gone'))).toEqual({ ok: false, status: 410, error: 'HTTP 410' });
    hits.length = 0;
    expect(await allowed.send(post('/redirect'))).toMatchObject({ ok: false, status: 302 });
    expect(hits).toEqual(['/redirect']);
  });

  it('gives up on a receiver slower than the timeout', async () => {
    const r = await allowed.send(post('/slow'));
    expect(r).toMatchObject({ ok: false });
    expect(r.ok ? '' : r.error).toMatch(/no answer within 1000 ms/);
  });

  it('never connects to a refused address, literal or resolved at connection time', async () => {
    hits.length = 0;
    expect(await closed.send(post('/ok'))).toMatchObject({
      ok: false,
      error: expect.stringMatching(/url_not_allowed/),
    });
    expect(await closed.send(post('/ok', 'localhost'))).toMatchObject({
      ok: false,
      error: expect.stringMatching(/resolves only to addresses webhooks may not reach/),
    });
    expect(hits).toEqual([]);
  });
});
