// Sends one webhook delivery: a POST of the body with its headers, over a connection the webhook
// target rule allows (src/infra/webhook-target.ts), within a timeout, redirects not followed. Any 2xx
// is a success; every other answer, a refused address, a timeout or a network error is a failure
// whose text goes to the delivery log (never a header: they hold the signature).
import { Agent as HttpAgent, request as httpRequest } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import type { EndpointPolicy } from '../infra/endpoint-policy.ts';
import { literalAddress } from '../infra/endpoint-policy.ts';
import { addressRefusal, webhookLookup } from '../infra/webhook-target.ts';
import type { AttemptResult } from './webhook-retry.ts';

const ERROR_TEXT_MAX = 500;

export interface WebhookPost {
  readonly url: string;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: string;
}

export class WebhookSender {
  private readonly agents = {
    'http:': new HttpAgent({ keepAlive: true }),
    'https:': new HttpsAgent({ keepAlive: true }),
  };
  private readonly lookups: Record<'http:' | 'https:', ReturnType<typeof webhookLookup>>;

  constructor(
    private readonly policy: EndpointPolicy,
    private readonly timeoutMs: number,
  ) {
    this.lookups = { 'http:': webhookLookup('http:', policy), 'https:': webhookLookup('https:', policy) };
  }

  async send(post: WebhookPost): Promise<AttemptResult> {
    let url: URL;
    try {
      url = new URL(post.url);
    } catch {
      return { ok: false, error: 'not a URL' };
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:')
      return { ok: false, error: 'not an HTTP(S) URL' };
    const literal = literalAddress(url.hostname);
    const refusal = literal === undefined ? undefined : addressRefusal(url.protocol, literal, this.policy);
    if (refusal) return { ok: false, error: `${literal} is an address webhooks may not reach (${refusal})` };
    try {
      const status = await this.post(url, post);
      return status >= 200 && status < 300
        ? { ok: true, status }
        : { ok: false, status, error: `HTTP ${status}` };
    } catch (err) {
      const text = err instanceof Error ? err.message || err.name : String(err);
      return { ok: false, error: text.slice(0, ERROR_TEXT_MAX) };
    }
  }

  private post(url: URL, post: WebhookPost): Promise<number> {
    const isHttps = url.protocol === 'https:';
    return new Promise<number>((resolve, reject) => {
      const req = (isHttps ? httpsRequest : httpRequest)(
        url,
        {
          method: 'POST',
          agent: this.agents[isHttps ? 'https:' : 'http:'],
          lookup: this.lookups[isHttps ? 'https:' : 'http:'] as never,
          headers: { ...post.headers, 'content-length': Buffer.byteLength(post.body) },
          timeout: this.timeoutMs,
        },
        (res) => {
          // The answer's body is not kept; it is read to free the connection for the next delivery.
          res.resume();
          res.on('end', () => resolve(res.statusCode ?? 0));
          res.on('error', reject);
        },
      );
      const timer = setTimeout(
        () => req.destroy(new Error(`no answer within ${this.timeoutMs} ms`)),
        this.timeoutMs,
      );
      req.on('close', () => clearTimeout(timer));
      req.on('timeout', () => req.destroy(new Error(`no answer within ${this.timeoutMs} ms`)));
      req.on('error', reject);
      req.end(post.body);
    });
  }

  close(): void {
    this.agents['http:'].destroy();
    this.agents['https:'].destroy();
  }
}
