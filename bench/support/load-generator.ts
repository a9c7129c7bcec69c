// A load process: GET requests at a fixed arrival rate (an open model), run as its own process so the
// client's work does not share an event loop with the caller. Request i is sent at
// start + i / rate whether or not earlier requests have answered, and its latency is measured from
// that scheduled time, so a server (or a client) that falls behind shows up in the figures instead of
// silently lowering the rate (no coordinated omission).
//
//   node_modules/.bin/node --import tsx bench/support/load-generator.ts \
//     --base-url http://127.0.0.1:PORT --rate 500 --duration-ms 30000 [--warmup-ms 3000] \
//     [--connections 64] [--timeout-ms 10000]
//   stdin:  {"token": "<access token>" | null, "paths": ["/workflows?limit=10", …]}
//   stdout: one JSON LoadResult
//
// Request i uses paths[i % paths.length] (the caller shuffles); the warm-up runs at the same rate,
// is not recorded, and ends with every request answered before the measured phase starts. Sockets
// come from one keep-alive http.Agent of at most `connections` sockets: a request that finds them all
// busy waits in the agent's queue, and that wait is part of its latency.
import http from 'node:http';
import { parseArgs } from 'node:util';
import { percentile, round } from './stats.ts';

export interface LoadResult {
  rate_per_s: number;
  duration_ms: number;
  warmup_ms: number;
  connections: number;
  distinct_paths: number;
  /** Requests sent in the measured phase (every one scheduled in it). */
  sent: number;
  /** Responses received, whatever their status. */
  completed: number;
  ok: number;
  /** Non-200 responses and transport failures (reset, timeout…), by kind. */
  errors: number;
  error_kinds: Record<string, number>;
  /** 200 responses per second, from the first scheduled send to the last response. */
  achieved_per_s: number;
  /** Of the 200 responses, from the scheduled send time to the end of the body. */
  latency: { p50_ms: number; p90_ms: number; p99_ms: number; max_ms: number; mean_ms: number };
  /** How late the client itself sent requests (actual send − scheduled): its own lag, included above. */
  send_lag: { p99_ms: number; max_ms: number };
  mean_response_bytes: number;
}

interface Phase {
  sent: number;
  completed: number;
  ok: number;
  errorKinds: Map<string, number>;
  latencies: number[];
  lags: number[];
  bytes: number;
  lastDoneAt: number;
}

const { values } = parseArgs({
  options: {
    'base-url': { type: 'string' },
    rate: { type: 'string' },
    'duration-ms': { type: 'string' },
    'warmup-ms': { type: 'string', default: '0' },
    connections: { type: 'string', default: '64' },
    'timeout-ms': { type: 'string', default: '10000' },
  },
  strict: true,
  allowPositionals: false,
});

function positive(name: string, raw: string | undefined, allowZero = false): number {
  const n = Number(raw);
  if (raw === undefined || !Number.isFinite(n) || n < 0 || (!allowZero && n === 0)) {
    process.stderr.write(
      `load-generator: --${name} must be a ${allowZero ? 'non-negative' : 'positive'} number\n`,
    );
    process.exit(2);
  }
  return n;
}

const baseUrl = new URL(values['base-url'] ?? 'http://invalid');
const rate = positive('rate', values.rate);
const durationMs = positive('duration-ms', values['duration-ms']);
const warmupMs = positive('warmup-ms', values['warmup-ms'], true);
const connections = positive('connections', values.connections);
const timeoutMs = positive('timeout-ms', values['timeout-ms']);

const input = JSON.parse(await readStdin()) as { token: string | null; paths: string[] };
if (!Array.isArray(input.paths) || input.paths.length === 0) {
  process.stderr.write('load-generator: stdin must give a non-empty "paths" array\n');
  process.exit(2);
}
const paths = input.paths;
const headers: Record<string, string> = { accept: 'application/json' };
if (input.token) headers.authorization = `Bearer ${input.token}`;
const agent = new http.Agent({ keepAlive: true, maxSockets: connections, maxFreeSockets: connections });
let nextPath = 0;

async function readStdin(): Promise<string> {
  let text = '';
  for await (const chunk of process.stdin) text += chunk;
  return text;
}

function newPhase(): Phase {
  return {
    sent: 0,
    completed: 0,
    ok: 0,
    errorKinds: new Map(),
    latencies: [],
    lags: [],
    bytes: 0,
    lastDoneAt: 0,
  };
}

function countError(phase: Phase, kind: string): void {
  phase.errorKinds.set(kind, (phase.errorKinds.get(kind) ?? 0) + 1);
}

/** Sends one GET now; resolves when it is answered or has failed (never rejects). */
function send(phase: Phase, path: string, scheduledAt: number): Promise<void> {
  phase.sent++;
  phase.lags.push(performance.now() - scheduledAt);
  return new Promise((resolve) => {
    let settled = false;
    const settle = (fn: () => void) => {
      if (settled) return;
      settled = true;
      fn();
      resolve();
    };
    const req = http.request(
      {
        agent,
        protocol: baseUrl.protocol,
        host: baseUrl.hostname,
        port: baseUrl.port,
        method: 'GET',
        path,
        headers,
      },
      (res) => {
        let bytes = 0;
        res.on('data', (chunk: Buffer) => (bytes += chunk.length));
        res.on('end', () =>
          settle(() => {
            const done = performance.now();
            phase.completed++;
            phase.lastDoneAt = Math.max(phase.lastDoneAt, done);
            if (res.statusCode === 200) {
              phase.ok++;
              phase.bytes += bytes;
              phase.latencies.push(done - scheduledAt);
            } else {
              countError(phase, `status_${res.statusCode}`);
            }
          }),
        );
        res.on('error', (err: NodeJS.ErrnoException) =>
          settle(() => countError(phase, err.code ?? err.message)),
        );
      },
    );
    req.setTimeout(timeoutMs, () => req.destroy(Object.assign(new Error('timeout'), { code: 'timeout' })));
    req.on('error', (err: NodeJS.ErrnoException) => settle(() => countError(phase, err.code ?? err.message)));
    req.end();
  });
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Schedules rate × duration requests at fixed intervals, then waits for every one to settle. */
async function runPhase(ms: number): Promise<{ phase: Phase; startedAt: number }> {
  const phase = newPhase();
  const total = Math.round((ms * rate) / 1000);
  const interval = 1000 / rate;
  const inFlight: Promise<void>[] = [];
  const startedAt = performance.now();
  let i = 0;
  while (i < total) {
    const now = performance.now();
    // Everything due by now goes out at once: a late timer must not lower the rate.
    for (; i < total && startedAt + i * interval <= now; i++) {
      inFlight.push(send(phase, paths[nextPath++ % paths.length]!, startedAt + i * interval));
    }
    if (i < total) await sleep(Math.max(0, startedAt + i * interval - performance.now()));
  }
  await Promise.all(inFlight);
  return { phase, startedAt };
}

if (warmupMs > 0) await runPhase(warmupMs);
const { phase, startedAt } = await runPhase(durationMs);
agent.destroy();

const errors = phase.sent - phase.ok;
const result: LoadResult = {
  rate_per_s: rate,
  duration_ms: durationMs,
  warmup_ms: warmupMs,
  connections,
  distinct_paths: new Set(paths).size,
  sent: phase.sent,
  completed: phase.completed,
  ok: phase.ok,
  errors,
  error_kinds: Object.fromEntries(phase.errorKinds),
  achieved_per_s:
    phase.lastDoneAt > startedAt ? round((phase.ok * 1000) / (phase.lastDoneAt - startedAt), 1) : 0,
  latency: {
    p50_ms: round(percentile(phase.latencies, 50), 3),
    p90_ms: round(percentile(phase.latencies, 90), 3),
    p99_ms: round(percentile(phase.latencies, 99), 3),
    max_ms: round(percentile(phase.latencies, 100), 3),
    mean_ms: round(phase.latencies.reduce((a, b) => a + b, 0) / Math.max(1, phase.latencies.length), 3),
  },
  send_lag: { p99_ms: round(percentile(phase.lags, 99), 3), max_ms: round(percentile(phase.lags, 100), 3) },
  mean_response_bytes: phase.ok ? Math.round(phase.bytes / phase.ok) : 0,
};
process.stdout.write(`${JSON.stringify(result)}\n`);
