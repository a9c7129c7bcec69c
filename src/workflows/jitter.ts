// Jitter: a workflow's fires spread over up to `jitter_seconds` after their nominal times, so that
// many workflows on one cron expression do not all start in the same instant. The offset is a pure
// function of the workflow id and the nominal time: every scheduler replica, every restart and the
// workflow actor compute the same one, and the nominal time stays the tick's identity (ledger, job id).
import { createHash } from 'node:crypto';

const SPAN = 2 ** 48;

/** The offset in [0, jitter_seconds · 1000) ms of the tick at `nominal` (ISO), 0 without jitter. */
export function jitterOffsetMs(
  workflowId: string,
  nominal: string,
  jitterSeconds: number | undefined,
): number {
  if (!jitterSeconds || jitterSeconds <= 0) return 0;
  const digest = createHash('sha256').update(`jitter\n${workflowId}\n${nominal}`).digest();
  return Math.floor((digest.readUIntBE(0, 6) / SPAN) * jitterSeconds * 1000);
}

/** When the tick at `nominal` fires: its nominal time plus the workflow's offset for it, as ISO. */
export function jitteredTime(workflowId: string, nominal: string, jitterSeconds: number | undefined): string {
  return new Date(Date.parse(nominal) + jitterOffsetMs(workflowId, nominal, jitterSeconds)).toISOString();
}
