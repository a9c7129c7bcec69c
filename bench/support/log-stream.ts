// What the log benchmarks (log_throughput, sse_latency) read besides the roles: every CV_LOGS message
// of one job with its JetStream timestamp, and the pids of the local stack's daemons (ClickHouse, the
// Docker engine) so their CPU time can be read from /proc like the roles'.
import { readdir, readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { DeliverPolicy } from '@nats-io/jetstream';
import { streamNames } from '../../src/events/stream-definitions.ts';
import type { Nats } from '../../src/infra/nats-connection.ts';
import type { LogBatch } from '../../src/logs/log-batch.ts';
import { nanosToMs } from './role-processes.ts';

export interface TimedLogMessage {
  readonly sequence: number;
  /** When JetStream stored the batch (epoch ms, sub-millisecond). */
  readonly storedAt: number;
  readonly attempt: number;
  readonly lines: number;
  /** Sequence numbers of the batch's first and last line (a batch holds consecutive lines). */
  readonly firstSeq: number;
  readonly lastSeq: number;
  /** When the executor read the batch's first and last line (epoch ms). */
  readonly firstTs: number;
  readonly lastTs: number;
  readonly bytes: number;
  /** The message body (a copy), when asked for with `keepData`. */
  readonly data?: Uint8Array;
}

/**
 * Every CV_LOGS message on `subject` (one job's batches) from the start, in stream order, summarised;
 * the lines themselves are dropped unless `keepData` (so a million lines cost little memory).
 */
export async function readLogMessages(
  nats: Nats,
  subject: string,
  keepData = false,
): Promise<TimedLogMessage[]> {
  const consumer = await nats.js.consumers.get(streamNames.logs, {
    filter_subjects: subject,
    deliver_policy: DeliverPolicy.All,
  });
  const out: TimedLogMessage[] = [];
  // Counted up front: the read ends at that count rather than on a message's pending count, which a
  // reset of the ordered consumer (seen with ~2,000 batches of 40 KB) can skip past.
  const expected = (await consumer.info()).num_pending;
  if (expected === 0) return out;
  const messages = await consumer.consume({ max_messages: 256 });
  try {
    for await (const m of messages) {
      const batch = JSON.parse(new TextDecoder().decode(m.data)) as LogBatch;
      const first = batch.lines[0];
      const last = batch.lines.at(-1);
      out.push({
        sequence: m.seq,
        storedAt: nanosToMs(m.timestampNanos),
        attempt: batch.attempt,
        lines: batch.lines.length,
        firstSeq: first?.seq ?? 0,
        lastSeq: last?.seq ?? 0,
        firstTs: first?.ts ?? 0,
        lastTs: last?.ts ?? 0,
        bytes: m.data.length,
        ...(keepData ? { data: m.data.slice() } : {}),
      });
      if (out.length >= expected || m.info.pending === 0) break;
    }
  } finally {
    messages.stop();
  }
  return out;
}

/** The first process whose command line (arguments split on NUL) satisfies `match`, or null. */
export async function findPid(match: (args: readonly string[]) => boolean): Promise<number | null> {
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const args = (await readFile(`/proc/${entry}/cmdline`, 'utf8')).split('\0').filter(Boolean);
      if (args.length && match(args)) return Number(entry);
    } catch {
      // gone meanwhile
    }
  }
  return null;
}

/**
 * The local stack's clickhouse-server and dockerd (src/stack: config under `<project>/.data`), when
 * this machine runs them; null for a service named by a URL the stack did not start.
 */
export async function stackDaemonPids(dockerHost: string): Promise<{
  clickhouse: number | null;
  dockerd: number | null;
}> {
  const clickhouseConfig = resolve('.data/clickhouse/config.xml');
  const [clickhouse, dockerd] = await Promise.all([
    findPid((a) => a[0]!.includes('clickhouse') && a.some((x) => x.endsWith(clickhouseConfig))),
    findPid((a) => a[0]!.endsWith('dockerd') && a.includes(`--host=${dockerHost}`)),
  ]);
  return { clickhouse, dockerd };
}
