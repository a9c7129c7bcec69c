// HEARTBEAT: an HTTP request to the endpoint; success when the status is the expected one. The result
// (status, latency, a bounded part of the body) is written as log lines. Where it may connect is the
// EndpointPolicy's to say, checked on the address the connection really goes to: an IP in the URL
// before anything is sent, a name at the moment it is resolved for the connection (so a name that
// resolves elsewhere later, DNS rebinding, is caught then). Redirects are never followed.
//
// node:http rather than fetch: fetch (undici with its web streams and composed abort signals) was the
// largest item of an executor's CPU profile under load, about a sixth of its busy time.

import { lookup as dnsLookup, type LookupAddress, type LookupAllOptions, type LookupOptions } from 'node:dns';
import {
  Agent as HttpAgent,
  request as httpRequest,
  type IncomingMessage,
  type OutgoingHttpHeaders,
} from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import { EndpointPolicy, literalAddress } from '../infra/endpoint-policy.ts';
import { activeTraceContext, SpanKind, SpanStatusCode, withSpan } from '../telemetry/tracing.ts';
import { parseDuration } from '../workflows/duration.ts';
import { HeartbeatPayload } from '../workflows/payload-schemas.ts';
import { type RunContext, type RunResult, userFailure } from './run-result.ts';

const BODY_EXCERPT_BYTES = 1024;

class HeartbeatTimeout extends Error {
  override name = 'TimeoutError';
}

/** The endpoint is, or resolves only to, an address the policy refuses. */
class EndpointNotAllowed extends Error {
  override name = 'EndpointNotAllowed';
}

type Lookup = (
  hostname: string,
  options: LookupOptions,
  callback: (err: NodeJS.ErrnoException | null, address: string | LookupAddress[], family?: number) => void,
) => void;

/** dns.lookup, keeping only the addresses the policy lets a connection go to. */
function guardedLookup(policy: EndpointPolicy): Lookup {
  return (hostname, options, callback) => {
    dnsLookup(hostname, { ...options, all: true } as LookupAllOptions, (err, addresses) => {
      if (err) return callback(err, []);
      const allowed = addresses.filter((a) => !policy.refuses(a.address));
      if (allowed.length === 0) {
        return callback(
          Object.assign(
            new EndpointNotAllowed(`${hostname} resolves only to addresses HEARTBEATs may not reach`),
            {
              code: 'ENDPOINT_NOT_ALLOWED',
            },
          ),
          [],
        );
      }
      if (options.all) return callback(null, allowed);
      return callback(null, allowed[0]!.address, allowed[0]!.family);
    });
  };
}

/** Runs HEARTBEAT checks under one endpoint policy, on connections kept between checks. */
export class HeartbeatClient {
  // A workflow probing its endpoint every minute, or many workflows probing one host, should not pay a
  // TCP (and TLS) handshake per request.
  readonly httpAgent: HttpAgent;
  readonly httpsAgent: HttpsAgent;
  readonly lookup: Lookup;

  constructor(readonly policy: EndpointPolicy = new EndpointPolicy()) {
    this.lookup = guardedLookup(policy);
    this.httpAgent = new HttpAgent({ keepAlive: true });
    this.httpsAgent = new HttpsAgent({ keepAlive: true });
  }

  run(payload: Record<string, unknown>, ctx: RunContext): Promise<RunResult> {
    return runHeartbeat(payload, ctx, this);
  }
}

interface HeartbeatResponse {
  status: number;
  body: string;
}

export async function runHeartbeat(
  payload: Record<string, unknown>,
  ctx: RunContext,
  client: HeartbeatClient,
): Promise<RunResult> {
  const parsed = HeartbeatPayload.safeParse(payload);
  if (!parsed.success)
    return userFailure('invalid_payload', parsed.error.issues[0]?.message ?? 'invalid payload');
  const p = parsed.data;
  const timeoutMs = parseDuration(p.timeout) ?? 10_000;
  const started = performance.now();
  ctx.log('stdout', `GET ${p.endpoint}`);
  const url = new URL(p.endpoint);
  const literal = literalAddress(url.hostname);
  if (literal !== undefined && client.policy.refuses(literal)) {
    ctx.log('stderr', `${literal} is an address HEARTBEATs may not reach; nothing was sent`);
    return userFailure('endpoint_not_allowed', `${literal} is an address HEARTBEATs may not reach`);
  }
  try {
    const res = await tracedGet(url, p.headers, timeoutMs, ctx.canceled, client);
    const latency = Math.round(performance.now() - started);
    ctx.log('stdout', `status ${res.status} in ${latency} ms (expected ${p.expected_status_code})`);
    if (res.body) ctx.log('stdout', `body: ${res.body}`);
    if (res.status === p.expected_status_code) return { outcome: 'completed' };
    return userFailure('status_mismatch', `expected status ${p.expected_status_code}, got ${res.status}`);
  } catch (err) {
    if (ctx.canceled.aborted) return { outcome: 'canceled' };
    const latency = Math.round(performance.now() - started);
    if (err instanceof HeartbeatTimeout) {
      ctx.log('stderr', `no answer within ${timeoutMs} ms`);
      return userFailure('timeout', `no answer within ${p.timeout}`);
    }
    const message = err instanceof Error ? err.message : String(err);
    if (err instanceof EndpointNotAllowed) {
      ctx.log('stderr', `${message}; nothing was sent`);
      return userFailure('endpoint_not_allowed', message);
    }
    ctx.log('stderr', `request failed after ${latency} ms: ${message}`);
    return userFailure('request_failed', message);
  }
}

/**
 * The request as a CLIENT span (`GET`, HTTP client conventions; the URL without credentials or
 * query, which may hold secrets), whose context goes to the endpoint as `traceparent` unless the
 * workflow sets that header itself.
 */
function tracedGet(
  url: URL,
  headers: Record<string, string | string[]>,
  timeoutMs: number,
  canceled: AbortSignal,
  client: HeartbeatClient,
): Promise<HeartbeatResponse> {
  const port = url.port ? Number(url.port) : url.protocol === 'https:' ? 443 : 80;
  return withSpan(
    'GET',
    {
      kind: SpanKind.CLIENT,
      attributes: {
        'http.request.method': 'GET',
        'url.full': `${url.protocol}//${url.host}${url.pathname}`,
        'server.address': url.hostname,
        'server.port': port,
      },
    },
    async (span) => {
      const res = await get(url, withTraceHeaders(headers), timeoutMs, canceled, client);
      span.setAttribute('http.response.status_code', res.status);
      if (res.status >= 400) span.setStatus({ code: SpanStatusCode.ERROR });
      return res;
    },
  );
}

/** The headers, with the active span's trace context added where the workflow sets none. */
function withTraceHeaders(headers: Record<string, string | string[]>): Record<string, string | string[]> {
  const trace = Object.entries(activeTraceContext());
  if (trace.length === 0) return headers;
  const own = new Set(Object.keys(headers).map((h) => h.toLowerCase()));
  return { ...headers, ...Object.fromEntries(trace.filter(([k]) => !own.has(k))) };
}

/** How often a request that died on a kept-alive connection is sent again on another. */
const STALE_CONNECTION_RETRIES = 3;

/**
 * One GET, redirects not followed, the whole exchange (headers and excerpt) within `timeoutMs`.
 * A kept-alive connection can be closed by the server just as it is reused (its idle timeout): the
 * request then dies before any answer through no fault of the endpoint. GET is idempotent, so it is
 * sent again on another connection (Node's documented remedy: `reusedSocket`); measured as 4 false
 * failures in 60,000 checks before (heartbeat benchmark against a Node server, 5 s keep-alive).
 */
async function get(
  url: URL,
  headers: Record<string, string | string[]>,
  timeoutMs: number,
  canceled: AbortSignal,
  client: HeartbeatClient,
): Promise<HeartbeatResponse> {
  const deadline = Date.now() + timeoutMs;
  for (let retry = 0; ; retry++) {
    try {
      return await getOnce(url, headers, Math.max(1, deadline - Date.now()), canceled, client);
    } catch (err) {
      if (!(err instanceof StaleConnection) || retry >= STALE_CONNECTION_RETRIES) {
        throw err instanceof StaleConnection ? err.cause : err;
      }
    }
  }
}

/** The request died on a reused connection before any answer came. */
class StaleConnection extends Error {}

function getOnce(
  url: URL,
  headers: Record<string, string | string[]>,
  timeoutMs: number,
  canceled: AbortSignal,
  client: HeartbeatClient,
): Promise<HeartbeatResponse> {
  return new Promise((resolve, reject) => {
    const https = url.protocol === 'https:';
    const req = (https ? httpsRequest : httpRequest)(url, {
      method: 'GET',
      headers: headers as OutgoingHttpHeaders,
      agent: https ? client.httpsAgent : client.httpAgent,
      // Every new connection resolves through the policy; a kept-alive one was checked when made.
      lookup: client.lookup as never,
      signal: canceled,
    });
    const timer = setTimeout(() => req.destroy(new HeartbeatTimeout()), timeoutMs);
    let answered = false;
    const fail = (err: Error) => {
      clearTimeout(timer);
      const code = (err as NodeJS.ErrnoException).code;
      const stale =
        req.reusedSocket && !answered && !canceled.aborted && (code === 'ECONNRESET' || code === 'EPIPE');
      reject(stale ? new StaleConnection(err.message, { cause: err }) : err);
    };
    req.on('error', fail);
    req.on('response', (res: IncomingMessage) => {
      answered = true;
      const chunks: Buffer[] = [];
      let size = 0;
      const done = () => {
        clearTimeout(timer);
        const body = Buffer.concat(chunks).subarray(0, BODY_EXCERPT_BYTES).toString('utf8');
        resolve({ status: res.statusCode ?? 0, body: body.replace(/\s+/g, ' ').trim() });
      };
      res.on('data', (chunk: Buffer) => {
        chunks.push(chunk);
        size += chunk.length;
        // Enough for the excerpt: the rest is not read (and the connection not reused).
        if (size >= BODY_EXCERPT_BYTES) {
          res.destroy();
          done();
        }
      });
      res.on('end', done);
      res.on('error', fail);
    });
    req.end();
  });
}
