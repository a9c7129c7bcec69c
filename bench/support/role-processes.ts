// Roles as child processes for the benchmarks that run the system's own processes (herd,
// executor_overhead, heartbeat_throughput, log_throughput, sse_latency): `chronoverse <role>` through
// test/support/role-process.ts on a benchmark's private environment, tracked so an interrupted run
// stops them (bench/run.ts calls `disposeOpenSystems`), ready once the role logs that it started. Plus what those benchmarks read
// about a process (resident memory, CPU time) and about the log (every message of some subjects with
// its JetStream timestamp).
import { readdir, readFile } from 'node:fs/promises';
import { DeliverPolicy } from '@nats-io/jetstream';
import type { Config } from '../../src/config/config.ts';
import type { EventEnvelope } from '../../src/events/envelope.ts';
import { decodeCommit } from '../../src/events/event-store.ts';
import { streamNames } from '../../src/events/stream-definitions.ts';
import type { Nats } from '../../src/infra/nats-connection.ts';
import { type RoleProcess, startRole } from '../../test/support/role-process.ts';
import { trackChild } from './api-system.ts';
import { withTimeout } from './stats.ts';

export interface BenchRole {
  readonly role: string;
  readonly pid: number;
  readonly process: RoleProcess;
  /** Its warn and error log lines so far, counted by level and message (with one example's fields). */
  problems(): Record<string, { count: number; example: string }>;
  /** SIGTERM, then SIGKILL after `graceMs`; resolves with the exit code. */
  stop(graceMs?: number): Promise<number | null>;
}

/** What each role logs once it serves (src/roles/*-role.ts). */
const readyLine: Record<string, string> = {
  scheduler: '"msg":"scheduler started"',
  executor: '"msg":"executor started"',
  projector: '"msg":"projector started"',
};

export async function startBenchRole(
  role: 'scheduler' | 'executor' | 'projector',
  config: Config,
  extraEnv: Record<string, string> = {},
  timeoutMs = 60_000,
): Promise<BenchRole> {
  // Level info: the ready line is an info line; none of these roles logs per job at info. The
  // benchmarks' HEARTBEAT endpoints are servers on this machine, which the policy refuses by default.
  const p = startRole(role, config, {
    CV_LOG_LEVEL: 'info',
    CV_HEARTBEAT_ALLOWED_NETWORKS: '127.0.0.0/8',
    ...extraEnv,
  });
  trackChild(p.child);
  const pid = p.child.pid;
  if (pid === undefined) throw new Error(`chronoverse ${role} did not start`);
  const ready = new Promise<void>((resolve, reject) => {
    const timer = setInterval(() => {
      if (p.output().includes(readyLine[role]!)) {
        clearInterval(timer);
        resolve();
      }
    }, 50);
    void p.exited.then((code) => {
      clearInterval(timer);
      reject(new Error(`chronoverse ${role} exited with ${code} before it was ready:\n${p.output()}`));
    });
  });
  try {
    await withTimeout(ready, timeoutMs, `chronoverse ${role} start`);
  } catch (err) {
    p.child.kill('SIGKILL');
    throw err;
  }
  let stopped: Promise<number | null> | undefined;
  return {
    role,
    pid,
    process: p,
    problems: () => logProblems(p.output()),
    stop(graceMs = 20_000) {
      stopped ??= (async () => {
        if (p.child.exitCode !== null) return p.child.exitCode;
        p.child.kill('SIGTERM');
        const timer = setTimeout(() => p.child.kill('SIGKILL'), graceMs);
        try {
          return await p.exited;
        } finally {
          clearTimeout(timer);
        }
      })();
      return stopped;
    },
  };
}

function logProblems(output: string): Record<string, { count: number; example: string }> {
  const out: Record<string, { count: number; example: string }> = {};
  for (const line of output.split('\n')) {
    if (!line.startsWith('{')) continue;
    let entry: { level?: string; msg?: string };
    try {
      entry = JSON.parse(line) as { level?: string; msg?: string };
    } catch {
      continue;
    }
    if (entry.level !== 'warn' && entry.level !== 'error') continue;
    const key = `${entry.level}: ${entry.msg}`;
    const seen = out[key];
    if (seen) seen.count++;
    else out[key] = { count: 1, example: line.slice(0, 600) };
  }
  return out;
}

/** The pid of the nats-server listening on `port` (a benchmark's private one), found in /proc. */
export async function natsServerPid(port: number): Promise<number | null> {
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const args = (await readFile(`/proc/${entry}/cmdline`, 'utf8')).split('\0');
      if (args[0]?.endsWith('nats-server') && args[args.indexOf('-p') + 1] === String(port))
        return Number(entry);
    } catch {
      // gone meanwhile
    }
  }
  return null;
}

/** JetStream API requests the server has answered for the account so far (and how many failed). */
export async function jetStreamApiCalls(nats: Nats): Promise<{ total: number; errors: number }> {
  const info = await nats.jsm.getAccountInfo();
  return { total: info.api.total, errors: info.api.errors };
}

/** Resident set size of a process in MiB (VmRSS of /proc/<pid>/status). */
export async function rssMib(pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  const kib = /^VmRSS:\s+(\d+)\s+kB/m.exec(status)?.[1];
  if (kib === undefined) throw new Error(`no VmRSS for pid ${pid}`);
  return Number(kib) / 1024;
}

/** User + system CPU time of a process in milliseconds (/proc/<pid>/stat, clock ticks of 10 ms). */
export async function cpuMs(pid: number): Promise<number> {
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
  // The command name (field 2) may hold spaces: count fields after its closing parenthesis.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // utime and stime are fields 14 and 15 of the whole line, 12 and 13 after the name.
  return (Number(fields[11]) + Number(fields[12])) * 10;
}

/**
 * CPU milliseconds of every process whose command name starts with one of `names` (a server's
 * workers and per-connection backends: `postgres`, `clickhouse-serv`), keyed by pid; diff two of
 * these with `cpuSpentMs`.
 */
export async function cpuByCommand(names: readonly string[]): Promise<Map<number, number>> {
  const out = new Map<number, number>();
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = await readFile(`/proc/${entry}/stat`, 'utf8');
      const comm = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
      if (names.some((n) => comm.startsWith(n))) out.set(Number(entry), await cpuMs(Number(entry)));
    } catch {
      // gone meanwhile
    }
  }
  return out;
}

/** CPU spent between two `cpuByCommand` samples by the processes alive at the second. */
export function cpuSpentMs(before: Map<number, number>, after: Map<number, number>): number {
  let total = 0;
  for (const [pid, ms] of after) total += ms - (before.get(pid) ?? 0);
  return total;
}

/** Samples a process's RSS every `everyMs` until stopped; the samples are MiB. */
export function sampleRss(pid: number, everyMs = 250): { stop(): number[] } {
  const samples: number[] = [];
  const timer = setInterval(() => {
    rssMib(pid).then(
      (v) => samples.push(v),
      () => {},
    );
  }, everyMs);
  return {
    stop() {
      clearInterval(timer);
      return samples;
    },
  };
}

export interface TimedCommit {
  readonly subject: string;
  readonly sequence: number;
  /** When JetStream stored the commit (epoch ms, sub-millisecond). */
  readonly storedAt: number;
  /** The Cv-Event-Types header: the commit's event types, in order. */
  readonly types: readonly string[];
  /** The decoded events; empty when read with `decode: false`. */
  readonly events: readonly EventEnvelope[];
}

/** Epoch milliseconds of a JetStream timestamp in nanoseconds. */
export const nanosToMs = (nanos: bigint): number => Number(nanos / 1000n) / 1000;

/**
 * Every commit of CV_EVENTS on `filter` from the start, with its JetStream timestamp, through an
 * ordered consumer; `select` (by the Cv-Event-Types header) skips the commits not wanted undecoded,
 * and `decode: false` keeps only the subject, timestamp and types of those wanted.
 */
export async function readCommits(
  nats: Nats,
  filter: string,
  select: (types: readonly string[]) => boolean = () => true,
  decode = true,
): Promise<TimedCommit[]> {
  const consumer = await nats.js.consumers.get(streamNames.events, {
    filter_subjects: filter,
    deliver_policy: DeliverPolicy.All,
  });
  const out: TimedCommit[] = [];
  if ((await consumer.info()).num_pending === 0) return out;
  const messages = await consumer.consume({ max_messages: 2048 });
  try {
    for await (const m of messages) {
      const types = m.headers?.get('Cv-Event-Types')?.split(',') ?? [];
      if (select(types)) {
        out.push({
          subject: m.subject,
          sequence: m.seq,
          storedAt: nanosToMs(m.timestampNanos),
          types,
          events: decode ? decodeCommit(m.data) : [],
        });
      }
      if (m.info.pending === 0) break;
    }
  } finally {
    messages.stop();
  }
  return out;
}

/** Pending work of a durable consumer: not yet delivered, and delivered but not acknowledged. */
export async function consumerBacklog(
  nats: Nats,
  stream: string,
  name: string,
): Promise<{ pending: number; ack_pending: number } | null> {
  try {
    const info = await nats.jsm.consumers.info(stream, name);
    return { pending: info.num_pending, ack_pending: info.num_ack_pending };
  } catch {
    return null;
  }
}

/** Messages and bytes one side of nats-server's connections moved, summed by connection name. */
export interface NatsTraffic {
  readonly [connectionName: string]: {
    in_msgs: number;
    out_msgs: number;
    in_bytes: number;
    out_bytes: number;
  };
}

/**
 * What every open client connection has sent (`in_*`: client to server) and received (`out_*`), by
 * connection name (`/connz` of the monitoring endpoint). Where the server's work per job goes: each
 * message in is parsed and routed, each one out is written to a socket.
 */
export async function natsTraffic(monitorUrl: string): Promise<NatsTraffic> {
  const res = await fetch(`${monitorUrl}/connz?limit=4096`);
  const body = (await res.json()) as {
    connections: { name?: string; in_msgs: number; out_msgs: number; in_bytes: number; out_bytes: number }[];
  };
  const traffic: Record<string, { in_msgs: number; out_msgs: number; in_bytes: number; out_bytes: number }> =
    {};
  for (const c of body.connections) {
    const name = c.name ?? '(unnamed)';
    const t = traffic[name] ?? { in_msgs: 0, out_msgs: 0, in_bytes: 0, out_bytes: 0 };
    traffic[name] = t;
    t.in_msgs += c.in_msgs;
    t.out_msgs += c.out_msgs;
    t.in_bytes += c.in_bytes;
    t.out_bytes += c.out_bytes;
  }
  return traffic;
}

/** `after - before` per connection name and field, divided by `per` (e.g. per completed job). */
export function trafficPer(before: NatsTraffic, after: NatsTraffic, per: number): NatsTraffic {
  const out: Record<string, { in_msgs: number; out_msgs: number; in_bytes: number; out_bytes: number }> = {};
  const r = (n: number) => Math.round((n / per) * 100) / 100;
  for (const [name, a] of Object.entries(after)) {
    const b = before[name] ?? { in_msgs: 0, out_msgs: 0, in_bytes: 0, out_bytes: 0 };
    out[name] = {
      in_msgs: r(a.in_msgs - b.in_msgs),
      out_msgs: r(a.out_msgs - b.out_msgs),
      in_bytes: r(a.in_bytes - b.in_bytes),
      out_bytes: r(a.out_bytes - b.out_bytes),
    };
  }
  return out;
}
