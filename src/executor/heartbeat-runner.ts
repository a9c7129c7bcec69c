// HEARTBEAT: an HTTP request to the endpoint; success when the status is the expected one. The result
// (status, latency, a bounded part of the body) is written as log lines.

import { parseDuration } from '../workflows/duration.ts';
import { HeartbeatPayload } from '../workflows/payload-schemas.ts';
import { type RunContext, type RunResult, userFailure } from './run-result.ts';

const BODY_EXCERPT_BYTES = 1024;

export async function runHeartbeat(payload: Record<string, unknown>, ctx: RunContext): Promise<RunResult> {
  const parsed = HeartbeatPayload.safeParse(payload);
  if (!parsed.success)
    return userFailure('invalid_payload', parsed.error.issues[0]?.message ?? 'invalid payload');
  const p = parsed.data;
  const timeoutMs = parseDuration(p.timeout) ?? 10_000;
  const headers = new Headers();
  for (const [name, value] of Object.entries(p.headers)) {
    for (const v of Array.isArray(value) ? value : [value]) headers.append(name, v);
  }
  const started = performance.now();
  ctx.log('stdout', `GET ${p.endpoint}`);
  try {
    const res = await fetch(p.endpoint, {
      headers,
      redirect: 'manual',
      signal: AbortSignal.any([ctx.canceled, AbortSignal.timeout(timeoutMs)]),
    });
    const latency = Math.round(performance.now() - started);
    const body = await readExcerpt(res);
    ctx.log('stdout', `status ${res.status} in ${latency} ms (expected ${p.expected_status_code})`);
    if (body) ctx.log('stdout', `body: ${body}`);
    if (res.status === p.expected_status_code) return { outcome: 'completed' };
    return userFailure('status_mismatch', `expected status ${p.expected_status_code}, got ${res.status}`);
  } catch (err) {
    if (ctx.canceled.aborted) return { outcome: 'canceled' };
    const latency = Math.round(performance.now() - started);
    if (err instanceof Error && err.name === 'TimeoutError') {
      ctx.log('stderr', `no answer within ${timeoutMs} ms`);
      return userFailure('timeout', `no answer within ${p.timeout}`);
    }
    const message =
      err instanceof Error ? ((err.cause as Error | undefined)?.message ?? err.message) : String(err);
    ctx.log('stderr', `request failed after ${latency} ms: ${message}`);
    return userFailure('request_failed', message);
  }
}

async function readExcerpt(res: Response): Promise<string> {
  if (!res.body) return '';
  const reader = res.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  while (size < BODY_EXCERPT_BYTES) {
    const { done, value } = await reader.read();
    if (done) break;
    chunks.push(value);
    size += value.length;
  }
  await reader.cancel().catch(() => {});
  return Buffer.concat(chunks).subarray(0, BODY_EXCERPT_BYTES).toString('utf8').replace(/\s+/g, ' ').trim();
}
