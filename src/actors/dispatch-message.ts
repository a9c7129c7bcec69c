// The dispatch work queue's message: one per job attempt, everything an executor needs to run it.

import { utf8Text } from '../events/utf8.ts';
import type { WorkflowKind } from '../events/workflow-events.ts';
import type { PersistedState } from './aggregate.ts';
import type { JobContext } from './job-machine.ts';

export interface DispatchMessage {
  readonly job_id: string;
  readonly user_id: string;
  readonly workflow_id: string;
  readonly attempt: number;
  readonly kind: WorkflowKind;
  readonly payload: Record<string, unknown>;
  /** false: the job's lines are shipped for the live tail but not stored. Absent (older messages) is true. */
  readonly log_retention?: boolean;
  /** ISO instant before which the attempt must not start (a retry's backoff). */
  readonly not_before: string | null;
  /**
   * The job actor at `version` (its subject's sequence), as the dispatcher had it when it sent this
   * attempt: the executor decides the start on it instead of reading the job back from the log. It is
   * only a cache entry: a job that changed since makes the start conflict and read, as any stale
   * snapshot does. Absent in older messages.
   */
  readonly job_snapshot?: { readonly version: number } & PersistedState<JobContext>;
}

export const dispatchMsgId = (jobId: string, attempt: number): string => `${jobId}:${attempt}`;

export function decodeDispatch(data: Uint8Array): DispatchMessage {
  const m = JSON.parse(utf8Text(data)) as Partial<DispatchMessage>;
  if (
    typeof m.job_id !== 'string' ||
    typeof m.user_id !== 'string' ||
    typeof m.attempt !== 'number' ||
    (m.kind !== 'HEARTBEAT' && m.kind !== 'CONTAINER')
  ) {
    throw new Error('not a dispatch message');
  }
  return m as DispatchMessage;
}
