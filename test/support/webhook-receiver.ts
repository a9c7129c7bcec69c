// A real HTTP receiver for webhook tests: records every request (headers and raw body), checks its
// signature with the snippet docs/webhooks.md gives users, and can be taken down (its port closed),
// made slow or made to fail, then brought back on the same port.
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingHttpHeaders, type Server, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

export type Verify = (secret: string, header: string, rawBody: string, toleranceSeconds?: number) => boolean;

/** The documented verification snippet, loaded as users would copy it. */
export async function documentedVerifier(): Promise<Verify> {
  const doc = readFileSync(new URL('../../docs/webhooks.md', import.meta.url), 'utf8');
  const code = /<!-- verify-snippet -->\n```js\n([\s\S]*?)```/.exec(doc)?.[1];
  if (!code) throw new Error('docs/webhooks.md has no verify-snippet block');
  const file = join(mkdtempSync(join(tmpdir(), 'cv-webhook-snippet-')), 'verify.mjs');
  writeFileSync(file, code);
  return ((await import(pathToFileURL(file).href)) as { verifyChronoverseSignature: Verify })
    .verifyChronoverseSignature;
}

export interface Received {
  readonly headers: IncomingHttpHeaders;
  readonly raw: string;
  readonly body: {
    id: string;
    type: string;
    workflow_id: string;
    aggregate: string;
    aggregate_id: string;
    sequence: number;
    data: Record<string, unknown>;
  };
  readonly at: number;
}

export type Mode = 'ok' | 'fail' | { slowMs: number };

export class WebhookReceiver {
  readonly received: Received[] = [];
  mode: Mode = 'ok';
  /** Called as each request arrives, before it is answered. */
  onRequest: ((r: Received) => void) | undefined;
  private server: Server | undefined;
  private readonly sockets = new Set<Socket>();
  port = 0;

  async start(port = 0): Promise<void> {
    const server = createServer((req, res) => {
      // Anything but a delivery (a HEARTBEAT's GET, say) is answered 200 and not recorded.
      if (req.method !== 'POST') {
        req.resume();
        res.writeHead(200).end('ok');
        return;
      }
      let raw = '';
      req.setEncoding('utf8');
      req.on('data', (chunk: string) => (raw += chunk));
      req.on('end', () => this.handle(req.headers, raw, res));
    });
    server.on('connection', (s) => {
      this.sockets.add(s);
      s.once('close', () => this.sockets.delete(s));
    });
    await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
    this.port = (server.address() as { port: number }).port;
    this.server = server;
  }

  private handle(headers: IncomingHttpHeaders, raw: string, res: ServerResponse): void {
    const r: Received = { headers, raw, body: JSON.parse(raw) as Received['body'], at: Date.now() };
    this.received.push(r);
    this.onRequest?.(r);
    const mode = this.mode;
    if (mode === 'fail') res.writeHead(500).end('no');
    else if (mode === 'ok') res.writeHead(204).end();
    else setTimeout(() => res.writeHead(200).end('ok'), mode.slowMs);
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}/hook`;
  }

  /** Closes the port and every open connection: the receiver is down. */
  async stop(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    if (!server) return;
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  /** Up again on the same port. */
  async restart(): Promise<void> {
    await this.start(this.port);
  }

  /** The distinct events received, in the order each first arrived. */
  firstArrivals(): Received[] {
    const seen = new Set<string>();
    return this.received.filter((r) => {
      if (seen.has(r.body.id)) return false;
      seen.add(r.body.id);
      return true;
    });
  }
}
