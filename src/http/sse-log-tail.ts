// The live tail of one job's log: every line after the client's last one, once and in order, then
// `end` when the job is final. Lines come from the live buffer (an ordered consumer on CV_LOGS,
// filtered to the job's subject); where the buffer no longer holds them (max age), from ClickHouse.
// Sequences are dense within an attempt, so a hole between the last line sent and the next one the
// buffer offers is exactly what ClickHouse must fill. The job is final when its subject says so; the
// executor reports that only after every line is in CV_LOGS, so the tail drains the buffer up to the
// subject's last message and then ends.
import { DeliverPolicy } from '@nats-io/jetstream';
import type { Msg, Subscription } from '@nats-io/transport-node';
import type { CommandHandler } from '../actors/command-handler.ts';
import type { ArchiveReader } from '../events/history.ts';
import { streamNames } from '../events/stream-definitions.ts';
import { eventSubject, logSubject } from '../events/subjects.ts';
import { utf8Text } from '../events/utf8.ts';
import type { Nats } from '../infra/nats-connection.ts';
import type { LogBatch } from '../logs/log-batch.ts';
import { jobStatusFromLog } from '../queries/jobs.ts';
import {
  compareKeys,
  isSuccessor,
  type LogKey,
  type LogQueries,
  type LogScope,
  type ServedLogLine,
} from '../queries/logs.ts';
import type { Logger } from '../telemetry/logger.ts';

export type FinalJobStatus = 'COMPLETED' | 'FAILED' | 'CANCELED';
const FINAL_STATUSES: ReadonlySet<string> = new Set<FinalJobStatus>(['COMPLETED', 'FAILED', 'CANCELED']);

export interface LogTailDeps {
  readonly nats: Nats;
  readonly commands: CommandHandler;
  readonly queries: LogQueries;
  readonly log: Logger;
  /** A finished job's commits moved out of the log by retention: its end is read from there. */
  readonly archive?: ArchiveReader;
}

export interface LogTailSink {
  line(line: ServedLogLine): Promise<void>;
  end(status: FinalJobStatus): Promise<void>;
}

/** The SSE id of a line: its sequence, prefixed with the attempt after the first one. */
export function lineEventId(key: LogKey): string {
  return key.attempt <= 1 ? String(key.sequence) : `${key.attempt}:${key.sequence}`;
}

/** The inverse of lineEventId; undefined for anything else. */
export function parseLineEventId(id: string): LogKey | undefined {
  const m = /^(?:(\d{1,9}):)?(\d{1,15})$/.exec(id.trim());
  if (!m) return undefined;
  return { attempt: m[1] === undefined ? 1 : Number(m[1]), sequence: Number(m[2]) };
}

/** The final status a commit on the job's subject brings, from its Cv-Event-Types header. */
export function finalStatusOf(eventTypes: readonly string[]): FinalJobStatus | undefined {
  if (eventTypes.includes('JobCompleted')) return 'COMPLETED';
  if (eventTypes.includes('JobCanceled')) return 'CANCELED';
  if (eventTypes.includes('JobFailed') && !eventTypes.includes('JobRetryScheduled')) return 'FAILED';
  return undefined;
}

function linesOf(data: Uint8Array): ServedLogLine[] {
  const batch = JSON.parse(utf8Text(data)) as LogBatch;
  return batch.lines.map((l) => ({
    timestamp: new Date(l.ts).toISOString(),
    message: l.line,
    sequence_num: l.seq,
    stream: l.stream,
    attempt: batch.attempt,
  }));
}

/** Runs until the job is final and every line was sent (then sends `end`), or until `signal` aborts. */
export async function tailJobLog(
  deps: LogTailDeps,
  scope: LogScope,
  from: LogKey,
  sink: LogTailSink,
  signal: AbortSignal,
): Promise<void> {
  const { nats, queries } = deps;
  const subject = logSubject(scope.userId, scope.jobId);
  let cursor = from;
  /** Stream sequence of the last CV_LOGS message handled. */
  let handled = 0;
  let finalStatus: FinalJobStatus | undefined;
  /** Once final: the stream sequence of the subject's last message, where the tail ends. */
  let endAt: number | undefined;
  let stopConsumer: (() => void) | undefined;
  let subscription: Subscription | undefined;
  let failure: unknown;

  const stopIfDone = () => {
    if (endAt !== undefined && handled >= endAt) stopConsumer?.();
  };
  const markFinal = (status: FinalJobStatus) => {
    if (finalStatus) return;
    finalStatus = status;
    nats.jsm.direct
      .getMessage(streamNames.logs, { last_by_subj: subject })
      .then((last) => {
        endAt = last?.seq ?? 0;
        stopIfDone();
      })
      .catch((err: unknown) => {
        failure = err;
        stopConsumer?.();
      });
  };
  const send = async (line: ServedLogLine) => {
    await sink.line(line);
    cursor = { attempt: line.attempt, sequence: line.sequence_num };
  };
  /** Lines after the cursor and before `before` (all of them without it), from ClickHouse. */
  const fill = async (before?: LogKey) => {
    for await (const line of queries.stream(scope, { after: cursor, before })) {
      if (signal.aborted) return;
      await send(line);
    }
  };

  const onAbort = () => stopConsumer?.();
  signal.addEventListener('abort', onAbort, { once: true });
  try {
    // Subscribe before reading the job's state, so a final event between the two is not missed.
    subscription = nats.nc.subscribe(eventSubject(scope.userId, 'job', scope.jobId), {
      callback: (err: Error | null, msg: Msg) => {
        if (err) return;
        const status = finalStatusOf((msg.headers?.get('Cv-Event-Types') ?? '').split(','));
        if (status) markFinal(status);
      },
    });
    const status = await jobStatusFromLog(deps.commands, scope.userId, scope.jobId, deps.archive);
    if (FINAL_STATUSES.has(status)) markFinal(status as FinalJobStatus);

    // Nothing of this job left in the buffer: what there is, is in ClickHouse.
    const first = await nats.jsm.direct.getMessage(streamNames.logs, { seq: 1, next_by_subj: subject });
    if (!first) await fill();
    if (signal.aborted) return;

    const consumer = await nats.js.consumers.get(streamNames.logs, {
      filter_subjects: subject,
      deliver_policy: first ? DeliverPolicy.StartSequence : DeliverPolicy.All,
      ...(first ? { opt_start_seq: first.seq } : {}),
    });
    const messages = await consumer.consume({ max_messages: 256 });
    stopConsumer = () => messages.stop();
    try {
      if (signal.aborted) return;
      stopIfDone();
      for await (const m of messages) {
        for (const line of linesOf(m.data)) {
          if (signal.aborted) break;
          const key = { attempt: line.attempt, sequence: line.sequence_num };
          if (compareKeys(key, cursor) <= 0) continue;
          if (!isSuccessor(cursor, key)) await fill(key);
          if (signal.aborted) break;
          if (compareKeys(key, cursor) > 0) await send(line);
        }
        handled = m.seq;
        if (signal.aborted) break;
        stopIfDone();
      }
    } finally {
      messages.stop();
      await consumer.delete().catch(() => {});
    }
    if (failure) throw failure;
    if (signal.aborted || !finalStatus) return;
    // A final job whose buffered lines were all sent may still have older lines only in ClickHouse
    // (a resumed client whose buffer expired): send what is after the cursor there too.
    if (handled === 0) await fill();
    if (signal.aborted) return;
    await sink.end(finalStatus);
  } finally {
    signal.removeEventListener('abort', onAbort);
    subscription?.unsubscribe();
  }
}
