// Log batches from the executors as ClickHouse `job_logs` rows (pure).
import type { LogBatch } from './log-batch.ts';

export interface JobLogRow {
  user_id: string;
  workflow_id: string;
  job_id: string;
  attempt: number;
  stream: 'stdout' | 'stderr';
  sequence: number;
  timestamp: number;
  timestamp_ms: number;
  message: string;
  /** The trace of the job's run (empty when it was not traced). */
  trace_id: string;
}

/** `subject` is cv.logs.<userId>.<jobId>: the owner comes from the subject, never from the body. */
export function logRows(subject: string, batch: LogBatch): JobLogRow[] {
  const userId = subject.split('.')[2] ?? '';
  return batch.lines.map((l) => ({
    user_id: userId,
    workflow_id: batch.workflow_id,
    job_id: batch.job_id,
    attempt: batch.attempt,
    stream: l.stream,
    sequence: l.seq,
    timestamp: Math.floor(l.ts / 1000),
    timestamp_ms: l.ts % 1000,
    message: l.line,
    trace_id: batch.trace_id ?? '',
  }));
}
