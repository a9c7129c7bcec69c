// What running one attempt can end as, in the job actor's terms.
import type { FailureKind } from '../events/job-events.ts';

export type RunResult =
  | { readonly outcome: 'completed'; readonly exit_code?: number; readonly image_digest?: string }
  | {
      readonly outcome: 'failed';
      readonly failure_kind: FailureKind;
      readonly reason: string;
      readonly error_message: string;
      readonly retryable: boolean;
      readonly exit_code?: number;
      readonly image_digest?: string;
    }
  | { readonly outcome: 'canceled' };

export interface RunContext {
  /** Receives every output line (HEARTBEAT writes its result as lines too). */
  readonly log: (stream: 'stdout' | 'stderr', line: string) => void;
  /** Aborted when the job is canceled. */
  readonly canceled: AbortSignal;
  /** Flow control from the log shipper. */
  readonly flow: { paused: boolean; onResume(fn: () => void): void };
}

export const userFailure = (
  reason: string,
  error_message: string,
  extra: { exit_code?: number; image_digest?: string } = {},
): RunResult => ({
  outcome: 'failed',
  failure_kind: 'USER',
  reason,
  error_message,
  retryable: false,
  ...extra,
});

export const systemFailure = (reason: string, error_message: string): RunResult => ({
  outcome: 'failed',
  failure_kind: 'SYSTEM',
  reason,
  error_message,
  retryable: true,
});
