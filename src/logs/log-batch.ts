// The format of a CV_LOGS message: one batch of a job attempt's output lines, as the executor ships
// it, and the header that says whether its lines are to be stored. Pure: the executor writes it, the
// log processor and the API's live tail and raw download read it.
import type { MsgHdrs } from '@nats-io/transport-node';

export type LogStream = 'stdout' | 'stderr';

export interface LogLine {
  readonly seq: number;
  readonly stream: LogStream;
  /** Milliseconds since the epoch, when the line was read. */
  readonly ts: number;
  readonly line: string;
}

export interface LogBatch {
  readonly workflow_id: string;
  readonly job_id: string;
  readonly attempt: number;
  /** The trace id of the job's run, when it was traced: its lines in ClickHouse name it. */
  readonly trace_id?: string;
  readonly lines: readonly LogLine[];
}

/**
 * Set to `false` on a batch whose lines must not be stored. A header rather than a body field: the
 * log processor and the raw download decide without parsing the batch, and an older batch (no
 * header) means "store", as it always did.
 */
export const LOG_RETENTION_HEADER = 'Cv-Log-Retention';

/** Whether a batch's lines are to be stored in ClickHouse, from its NATS headers. */
export function isRetained(headers: Pick<MsgHdrs, 'get'> | undefined): boolean {
  return headers?.get(LOG_RETENTION_HEADER) !== 'false';
}
