// Read-model rows as API JSON: snake_case, RFC 3339 times, no internal columns.
import type { JobRow, WorkflowRow } from '../infra/database.ts';
import { maskSecrets } from '../infra/secret-box.ts';

const iso = (d: Date | null): string | null => (d ? d.toISOString() : null);

export function workflowJson(w: WorkflowRow) {
  return {
    id: w.id,
    name: w.name,
    kind: w.kind,
    payload: maskSecrets(w.payload),
    interval: w.interval_minutes,
    schedule: w.schedule,
    status: w.status,
    build_status: w.build_status,
    build_error: w.build_error,
    max_consecutive_job_failures_allowed: w.max_consecutive_job_failures_allowed,
    log_retention: w.log_retention,
    chain: w.chain
      ? Object.fromEntries(Object.entries(w.chain).map(([outcome, ids]) => [outcome, [...(ids as string[])]]))
      : null,
    consecutive_job_failures: w.consecutive_job_failures,
    last_fired_at: iso(w.last_fired_at),
    terminated_at: iso(w.terminated_at),
    terminated_reason: w.terminated_reason,
    created_at: w.created_at.toISOString(),
    updated_at: w.updated_at.toISOString(),
    version: w.version,
  };
}

export function jobJson(j: JobRow) {
  return {
    id: j.id,
    workflow_id: j.workflow_id,
    kind: j.kind,
    status: j.status,
    trigger: j.trigger,
    attempt: j.attempt,
    scheduled_at: j.scheduled_at.toISOString(),
    fire_at: iso(j.fire_at),
    backfill_id: j.backfill_id,
    caused_by:
      j.caused_by_job_id && j.caused_by_workflow_id
        ? { workflow_id: j.caused_by_workflow_id, job_id: j.caused_by_job_id, depth: j.chain_depth ?? 1 }
        : null,
    queued_at: iso(j.queued_at),
    started_at: iso(j.started_at),
    completed_at: iso(j.completed_at),
    not_before: iso(j.not_before),
    exit_code: j.exit_code,
    failure_kind: j.failure_kind,
    failure_reason: j.failure_reason,
    error_message: j.error_message,
    image_digest: j.image_digest,
    created_at: j.created_at.toISOString(),
    updated_at: j.updated_at.toISOString(),
    version: j.version,
  };
}
