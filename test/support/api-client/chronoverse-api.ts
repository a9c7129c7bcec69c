// Generated from the OpenAPI document by `npm run generate:client`; do not edit.
// @ts-nocheck
/** `pending`: to be sent (again) at next_attempt_at; `delivered`: a 2xx came back; `failed`: given up after the max age */
export type WebhookDeliveryStatus = "pending" | "delivered" | "failed";

/** A workflow or job event type, as in the `type` of GET /events (docs/events.md) */
export type WebhookEventType =
  | "WorkflowCreated"
  | "WorkflowUpdated"
  | "WorkflowBuildQueued"
  | "WorkflowBuildStarted"
  | "WorkflowBuildCompleted"
  | "WorkflowBuildFailed"
  | "WorkflowBuildCanceled"
  | "WorkflowPaused"
  | "WorkflowResumed"
  | "WorkflowTerminated"
  | "WorkflowDeleted"
  | "JobScheduled"
  | "ChainSkipped"
  | "BackfillRequested"
  | "JobReleased"
  | "TicksWithdrawn"
  | "TickSkipped"
  | "JobOutcomeRecorded"
  | "JobCreated"
  | "JobQueued"
  | "JobStarted"
  | "JobCompleted"
  | "JobFailed"
  | "JobRetryScheduled"
  | "JobCanceled";

/** `read`: GET and HEAD only; `write`: every other method too */
export type ApiKeyScope = "read" | "write";

export type NotificationPreference = "ALERTS" | "ALL" | "NONE";

export interface HeartbeatPayload {
  /**
   * An http or https URL. Loopback, private, link-local and other internal addresses (by address or by a name resolving to one) are refused with 422 endpoint_not_allowed unless the operator allows them (CV_HEARTBEAT_ALLOWED_NETWORKS); redirects are not followed.
   * @format uri
   * @pattern ^[Hh][Tt][Tt][Pp][Ss]?://
   */
  endpoint: string;
  /**
   * @min 100
   * @max 599
   * @default 200
   */
  expected_status_code?: number;
  /** @default {} */
  headers?: Record<string, string | string[]>;
  /**
   * A duration such as "30s", "5m" or "1h30m" (units ms, s, m, h), more than 0 and at most 5 minutes. Default 10s.
   * @default "10s"
   * @pattern ^\s*([0-9]+(\.[0-9]+)?(ms|s|m|h))+\s*$
   */
  timeout?: string;
}

export interface ContainerPayload {
  /**
   * @minLength 1
   * @maxLength 255
   */
  image: string;
  /**
   * @maxItems 256
   * @default []
   */
  cmd?: string[];
  /** @default {} */
  env?: Partial<Record<any, string>>;
  /**
   * Environment values kept secret: sealed (AES-256-GCM) before they are stored, never returned (a workflow shows each as "********"), given to the container as env. An update whose payload leaves secret_env out keeps the secrets; secret_env: {} removes them; any other replaces them.
   * @default {}
   */
  secret_env?: Partial<Record<any, string>>;
  /**
   * A duration such as "30s", "5m" or "1h30m" (units ms, s, m, h), more than 0 and at most 60 minutes. Default 30s.
   * @default "30s"
   * @pattern ^\s*([0-9]+(\.[0-9]+)?(ms|s|m|h))+\s*$
   */
  timeout?: string;
  resources?: {
    /**
     * @exclusiveMin 0
     * @max 64
     */
    cpus?: number;
    /**
     * @min 6
     * @max 65536
     */
    memory_mb?: number;
    /**
     * @min 1
     * @max 32768
     */
    pids?: number;
  };
  /** @default "none" */
  network?: "none" | "bridge";
}

export interface Readiness {
  status: "ok" | "unavailable";
  checks: Record<
    string,
    {
      ok: boolean;
      latency_ms: number;
      error?: string;
    }
  >;
}

export interface RegisteredUser {
  /** @format uuid */
  id: string;
  email: string;
}

export interface Problem {
  type: string;
  title: string;
  status: number;
  /** Stable, machine-readable error code */
  code: string;
  detail: string;
  /** The input that is wrong, for validation errors */
  field?: string;
}

export interface RegisterRequest {
  /**
   * @format email
   * @maxLength 254
   * @example "ada@example.com"
   */
  email: string;
  /**
   * @minLength 8
   * @maxLength 128
   * @example "correct horse battery staple"
   */
  password: string;
}

export interface TokenPair {
  /** JWT (EdDSA); send as `Authorization: Bearer …` */
  access_token: string;
  token_type: "Bearer";
  /** Seconds until the access token expires */
  expires_in: number;
  /** Opaque, single use: exchange at /auth/refresh */
  refresh_token: string;
}

export interface LoginRequest {
  /**
   * @format email
   * @maxLength 254
   * @example "ada@example.com"
   */
  email: string;
  /**
   * @minLength 1
   * @maxLength 128
   */
  password: string;
}

export interface RefreshRequest {
  /**
   * Omit to use the cv_refresh cookie (then X-CSRF-Token is required)
   * @minLength 1
   * @maxLength 512
   */
  refresh_token?: string;
}

export interface User {
  id: string;
  email: string;
  notification_preference: NotificationPreference;
  /** @format date-time */
  created_at: string;
}

export interface UpdateUser {
  notification_preference: NotificationPreference;
}

export interface WorkflowPage {
  items: Workflow[];
  next_cursor: string | null;
}

export interface Workflow {
  id: string;
  name: string;
  kind: "HEARTBEAT" | "CONTAINER";
  payload: Record<string, any>;
  interval: number | null;
  schedule: Schedule;
  status: "ACTIVE" | "PAUSED" | "TERMINATED";
  build_status:
    | "NONE"
    | "QUEUED"
    | "STARTED"
    | "COMPLETED"
    | "FAILED"
    | "CANCELED";
  build_error: string | null;
  max_consecutive_job_failures_allowed: number;
  /** false: the jobs' log lines are not stored */
  log_retention: boolean;
  /** Workflow ids of the caller's, at most 20 per outcome. Each run they start is a job with trigger CHAIN and caused_by naming the job that ended. A chain that would come back to a workflow it started from (a cycle) is refused with 422 chain_cycle naming it; an id that names no workflow of the caller's with 422 chain_target_not_found. A paused, terminated or deleted target is a recorded skip (ChainSkipped in its or the parent's history); runs deeper than 10 in a chain are skipped too. */
  chain: WorkflowChain;
  consecutive_job_failures: number;
  /** @format date-time */
  last_fired_at: string | null;
  /** @format date-time */
  terminated_at: string | null;
  /** user, consecutive_failures or run_limit */
  terminated_reason: string | null;
  /** @format date-time */
  created_at: string;
  /** @format date-time */
  updated_at: string;
  version: number;
}

export interface Schedule {
  type: "interval" | "cron" | "at";
  minutes?: number;
  cron?: string;
  timezone?: string;
  at?: string;
  start_at?: string;
  end_at?: string;
  dst?: {
    nonexistent?: "shift" | "skip";
    repeated?: "once" | "twice";
  };
  overlap?: "skip" | "queue_one" | "allow" | "cancel_running";
  catch_up?: "latest" | "all" | "none";
  max_runs?: number;
  jitter_seconds?: number;
}

/** Workflow ids of the caller's, at most 20 per outcome. Each run they start is a job with trigger CHAIN and caused_by naming the job that ended. A chain that would come back to a workflow it started from (a cycle) is refused with 422 chain_cycle naming it; an id that names no workflow of the caller's with 422 chain_target_not_found. A paused, terminated or deleted target is a recorded skip (ChainSkipped in its or the parent's history); runs deeper than 10 in a chain are skipped too. */
export interface WorkflowChain {
  /**
   * Run when a job completes
   * @maxItems 20
   */
  on_success?: string[];
  /**
   * Run when a job fails (after its retries)
   * @maxItems 20
   */
  on_failure?: string[];
  /**
   * Run when a job ends in any way (completed, failed, canceled)
   * @maxItems 20
   */
  on_end?: string[];
}

export interface Created {
  id: string;
  version: number;
}

/** A workflow: its kind with the payload of that kind, and exactly one of interval, schedule or at. end_at, if given with start_at, is not before it. */
export type CreateWorkflow = (
  | {
      kind: "HEARTBEAT";
      /** A HeartbeatPayload as JSON text, as the original Chronoverse clients sent it */
      payload?: HeartbeatPayload | string;
    }
  | {
      kind: "CONTAINER";
      /** A ContainerPayload as JSON text, as the original Chronoverse clients sent it */
      payload?: ContainerPayload | string;
    }
) & {
  /**
   * 1 to 255 characters once leading and trailing white space is trimmed; no control characters (U+0000–U+001F, U+007F)
   * @minLength 1
   * @maxLength 255
   * @pattern ^[^\u0000-\u001F\u007F]*[^\s\u0000-\u001F\u007F][^\u0000-\u001F\u007F]*$
   */
  name: string;
  kind: "HEARTBEAT" | "CONTAINER";
  /** A HeartbeatPayload or ContainerPayload, as an object or a JSON string */
  payload: Record<string, any> | string;
  /**
   * Minutes between runs (1 to 10080)
   * @min 1
   * @max 10080
   */
  interval?: number;
  schedule?: CronSchedule;
  /**
   * Run once, at this instant
   * @format date-time
   * @maxLength 64
   * @pattern ^[0-9]{4}-[0-9]{2}-[0-9]{2}[Tt][0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]+)?([Zz]|[+-][0-9]{2}:[0-9]{2})$
   */
  at?: string;
  /**
   * RFC 3339 with an offset (Z or ±hh:mm); a date that does not exist (2026-02-30) is refused
   * @format date-time
   * @maxLength 64
   * @pattern ^[0-9]{4}-[0-9]{2}-[0-9]{2}[Tt][0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]+)?([Zz]|[+-][0-9]{2}:[0-9]{2})$
   */
  start_at?: string;
  /**
   * RFC 3339 with an offset (Z or ±hh:mm); a date that does not exist (2026-02-30) is refused
   * @format date-time
   * @maxLength 64
   * @pattern ^[0-9]{4}-[0-9]{2}-[0-9]{2}[Tt][0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]+)?([Zz]|[+-][0-9]{2}:[0-9]{2})$
   */
  end_at?: string;
  /** Spring forward: shift (default) or skip. Fall back: once (default) or twice. */
  dst?: {
    nonexistent?: "shift" | "skip";
    repeated?: "once" | "twice";
  };
  /** Default skip */
  overlap_policy?: "skip" | "queue_one" | "allow" | "cancel_running";
  /** Default latest */
  catch_up?: "latest" | "all" | "none";
  /**
   * Spread each fire over up to this many seconds after its nominal time, by an offset derived from the workflow id and the nominal time (the same on every scheduler replica and restart). At most the schedule's shortest gap between ticks; not for a one-off `at`. The job keeps both times (scheduled_at, fire_at); lateness counts from fire_at; the preview shows jittered times.
   * @min 1
   * @max 604800
   */
  jitter_seconds?: number;
  /**
   * At most this many scheduled fires (run-nows do not count). The fire that reaches it terminates the workflow (terminated_reason run_limit) while its job still runs. Lowering it to what has already fired terminates the workflow at once. Default: no limit.
   * @min 1
   * @max 1000000
   */
  max_runs?: number;
  /**
   * @min 3
   * @max 100
   * @default 3
   */
  max_consecutive_job_failures_allowed?: number;
  /**
   * Default true: the jobs' log lines are stored (for CV_LOG_RETENTION_DAYS). false: they are not; the live tail still shows them while a job runs. A change applies to jobs created after it.
   * @default true
   */
  log_retention?: boolean;
  /** null or absent: no chain */
  chain?: {
    /**
     * Run when a job completes
     * @maxItems 20
     */
    on_success?: string[];
    /**
     * Run when a job fails (after its retries)
     * @maxItems 20
     */
    on_failure?: string[];
    /**
     * Run when a job ends in any way (completed, failed, canceled)
     * @maxItems 20
     */
    on_end?: string[];
  };
};

export interface CronSchedule {
  /**
   * 5 fields (minute hour day-of-month month day-of-week) or 6 (seconds first); ranges, lists, steps, names, L; `+` before the weekday requires both days. An expression that never fires (0 0 30 2 *) is refused. See docs/scheduling.md.
   * @format cron
   * @minLength 1
   * @maxLength 255
   * @example "*\/15 * * * *"
   */
  cron: string;
  /**
   * An IANA time zone known to the server (Intl), default UTC
   * @format time-zone
   * @minLength 1
   * @maxLength 64
   * @default "UTC"
   * @example "Europe/Berlin"
   */
  timezone?: string;
}

/** Replaces the fields it names and keeps the others; an empty body is refused (422, nothing to update). The kind cannot change: payload is the payload of the workflow's kind. At most one of interval, schedule or at; a schedule policy alone (start_at, end_at, dst, overlap_policy, catch_up, max_runs) keeps the schedule and changes that policy. */
export type UpdateWorkflow = {
  /**
   * 1 to 255 characters once leading and trailing white space is trimmed; no control characters (U+0000–U+001F, U+007F)
   * @minLength 1
   * @maxLength 255
   * @pattern ^[^\u0000-\u001F\u007F]*[^\s\u0000-\u001F\u007F][^\u0000-\u001F\u007F]*$
   */
  name?: string;
  /** The payload of the workflow's kind, as an object or as JSON text */
  payload?: HeartbeatPayload | ContainerPayload | string;
  /**
   * Minutes between runs (1 to 10080)
   * @min 1
   * @max 10080
   */
  interval?: number;
  schedule?: CronSchedule;
  /**
   * Run once, at this instant
   * @format date-time
   * @maxLength 64
   * @pattern ^[0-9]{4}-[0-9]{2}-[0-9]{2}[Tt][0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]+)?([Zz]|[+-][0-9]{2}:[0-9]{2})$
   */
  at?: string;
  /**
   * RFC 3339 with an offset (Z or ±hh:mm); a date that does not exist (2026-02-30) is refused
   * @format date-time
   * @maxLength 64
   * @pattern ^[0-9]{4}-[0-9]{2}-[0-9]{2}[Tt][0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]+)?([Zz]|[+-][0-9]{2}:[0-9]{2})$
   */
  start_at?: string;
  /**
   * RFC 3339 with an offset (Z or ±hh:mm); a date that does not exist (2026-02-30) is refused
   * @format date-time
   * @maxLength 64
   * @pattern ^[0-9]{4}-[0-9]{2}-[0-9]{2}[Tt][0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]+)?([Zz]|[+-][0-9]{2}:[0-9]{2})$
   */
  end_at?: string;
  /** Spring forward: shift (default) or skip. Fall back: once (default) or twice. */
  dst?: {
    nonexistent?: "shift" | "skip";
    repeated?: "once" | "twice";
  };
  /** Default skip */
  overlap_policy?: "skip" | "queue_one" | "allow" | "cancel_running";
  /** Default latest */
  catch_up?: "latest" | "all" | "none";
  /**
   * Spread each fire over up to this many seconds after its nominal time, by an offset derived from the workflow id and the nominal time (the same on every scheduler replica and restart). At most the schedule's shortest gap between ticks; not for a one-off `at`. The job keeps both times (scheduled_at, fire_at); lateness counts from fire_at; the preview shows jittered times.
   * @min 1
   * @max 604800
   */
  jitter_seconds?: number;
  /**
   * At most this many scheduled fires (run-nows do not count). The fire that reaches it terminates the workflow (terminated_reason run_limit) while its job still runs. Lowering it to what has already fired terminates the workflow at once. Default: no limit.
   * @min 1
   * @max 1000000
   */
  max_runs?: number;
  /**
   * @min 3
   * @max 100
   */
  max_consecutive_job_failures_allowed?: number;
  /** Default true: the jobs' log lines are stored (for CV_LOG_RETENTION_DAYS). false: they are not; the live tail still shows them while a job runs. A change applies to jobs created after it. */
  log_retention?: boolean;
  /** Replaces the chain; null or {} removes it */
  chain?: {
    /**
     * Run when a job completes
     * @maxItems 20
     */
    on_success?: string[];
    /**
     * Run when a job fails (after its retries)
     * @maxItems 20
     */
    on_failure?: string[];
    /**
     * Run when a job ends in any way (completed, failed, canceled)
     * @maxItems 20
     */
    on_end?: string[];
  };
};

export interface HistoryPage {
  items: HistoryEvent[];
  next_after: number | null;
}

export interface HistoryEvent {
  sequence: number;
  id: string;
  type: string;
  version: number;
  occurred_at: string;
  correlation_id: string;
  causation_id: string;
  /** The API key the request that caused the event was made with; null otherwise */
  api_key_id: string | null;
  data: Record<string, any>;
}

export interface JobPage {
  items: Job[];
  next_cursor: string | null;
}

export interface Job {
  id: string;
  workflow_id: string;
  kind: "HEARTBEAT" | "CONTAINER";
  status:
    | "PENDING"
    | "QUEUED"
    | "RUNNING"
    | "COMPLETED"
    | "FAILED"
    | "CANCELED";
  trigger: "AUTOMATIC" | "MANUAL" | "BACKFILL" | "CHAIN";
  attempt: number;
  /**
   * A scheduled job's nominal time (its tick); a run-now's: when it was asked for
   * @format date-time
   */
  scheduled_at: string;
  /** Trigger CHAIN: the job whose end started this one, and how deep in the chain it is */
  caused_by: {
    workflow_id: string;
    job_id: string;
    depth: number;
  };
  /** Trigger BACKFILL: the backfill that fired it (GET /workflows/{id}/backfills) */
  backfill_id: string | null;
  /**
   * With the schedule's jitter: when the job is to start (scheduled_at plus the workflow's offset); lateness counts from it. Null: at scheduled_at
   * @format date-time
   */
  fire_at: string | null;
  /** @format date-time */
  queued_at: string | null;
  /** @format date-time */
  started_at: string | null;
  /** @format date-time */
  completed_at: string | null;
  /** @format date-time */
  not_before: string | null;
  exit_code: number | null;
  failure_kind: "USER" | "SYSTEM";
  failure_reason: string | null;
  error_message: string | null;
  image_digest: string | null;
  /** @format date-time */
  created_at: string;
  /** @format date-time */
  updated_at: string;
  version: number;
}

export interface ScheduledJob {
  job_id: string;
  /** @format date-time */
  scheduled_at: string | null;
}

export interface TickPage {
  items: Tick[];
  next_cursor: string | null;
}

export interface Tick {
  nominal_at: string;
  outcome: "fired" | "skipped";
  reason: string | null;
  job_id: string | null;
  /** A fired tick of a schedule with jitter: when its job is to start */
  fire_at: string | null;
  recorded_at: string;
}

export interface SchedulePreview {
  items: PreviewTick[];
}

export interface PreviewTick {
  /** When it fires, UTC, RFC 3339: with jitter, its nominal time plus the offset */
  at: string;
  /** The tick's nominal time (its identity in the ledger), UTC */
  nominal: string;
  /** Wall time in the schedule’s zone, with its offset */
  local: string;
  dst: "shifted" | "repeated" | "skipped";
}

export interface BackfillStarted {
  backfill_id: string;
  /** Ticks fired by this request */
  jobs: number;
  /** Ticks of the range an earlier backfill fired already */
  covered: number;
  job_ids: string[];
}

export interface BackfillRequest {
  /**
   * First nominal time included
   * @format date-time
   * @maxLength 64
   * @pattern ^\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$
   */
  from: string;
  /**
   * End, excluded; not after now
   * @format date-time
   * @maxLength 64
   * @pattern ^\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$
   */
  to: string;
  /**
   * For this backfill alone: allow, all at once; buffer (default), one after another
   * @default "buffer"
   */
  overlap?: "allow" | "buffer";
}

export interface BackfillList {
  items: Backfill[];
}

export interface Backfill {
  id: string;
  from: string;
  to: string;
  overlap: "allow" | "buffer";
  jobs: number;
  covered: number;
  /** Jobs not started yet (pending or queued) */
  pending: number;
  running: number;
  completed: number;
  failed: number;
  canceled: number;
  created_at: string;
}

export interface NotificationPage {
  items: Notification[];
  next_cursor: string | null;
}

export interface Notification {
  id: string;
  kind: "WEB_ALERT" | "WEB_ERROR" | "WEB_WARN" | "WEB_SUCCESS" | "WEB_INFO";
  title: string;
  message: string;
  entity_id: string;
  entity_type: "WORKFLOW" | "JOB" | "WEBHOOK";
  action_url: string;
  read_at: string | null;
  created_at: string;
}

export interface MarkNotificationsRead {
  /**
   * @maxItems 1000
   * @minItems 1
   */
  ids: string[];
}

export type CreatedApiKey = ApiKey & {
  /**
   * Send as `Authorization: Bearer <key>`. Shown once: only its SHA-256 is kept.
   * @example "cvk_3q2+…"
   */
  key: string;
};

export interface ApiKey {
  id: string;
  name: string;
  scopes: ApiKeyScope[];
  /**
   * How every key starts
   * @example "cvk_"
   */
  prefix: string;
  created_at: string;
  expires_at: string | null;
  /** The last request made with the key (to within a minute); null if none */
  last_used_at: string | null;
}

export interface CreateApiKey {
  /**
   * What the key is for (shown in the list)
   * @minLength 1
   * @maxLength 100
   * @example "ci deploy"
   */
  name: string;
  /**
   * What the key may do
   * @maxItems 2
   * @minItems 1
   * @example ["read","write"]
   */
  scopes: ApiKeyScope[];
  /**
   * When the key stops working (must be in the future: 422 expires_at_in_past); never if left out
   * @format date-time
   */
  expires_at?: string;
}

export interface ApiKeyList {
  items: ApiKey[];
}

export type CreatedWebhook = Webhook & {
  /**
   * Signs every delivery (header Chronoverse-Signature, docs/webhooks.md). Shown once; kept sealed for signing.
   * @example "whsec_…"
   */
  secret: string;
};

export interface Webhook {
  id: string;
  url: string;
  event_types: WebhookEventType[];
  /** The one workflow it is for; null: all of them */
  workflow_id: string | null;
  enabled: boolean;
  /** Why it is disabled: too many failed deliveries in a row, or the user */
  disabled_reason: "consecutive_failures" | "user";
  consecutive_failures: number;
  created_at: string;
  updated_at: string;
}

export interface CreateWebhook {
  /**
   * Where deliveries are POSTed. https://; http:// only to networks the operator allows (422 insecure_url); never an internal address the operator has not allowed (422 url_not_allowed); 422 invalid_url if it does not parse
   * @maxLength 2048
   * @pattern ^https?:\/\/\S+$
   * @example "https://hooks.example.com/chronoverse"
   */
  url: string;
  /**
   * The event types to deliver
   * @maxItems 25
   * @minItems 1
   * @example ["JobCompleted","JobFailed"]
   */
  event_types: WebhookEventType[];
  /**
   * Only this workflow’s events (one of yours: 422 webhook_workflow_not_found otherwise)
   * @format uuid
   * @pattern ^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$
   */
  workflow_id?: string;
}

export interface WebhookPage {
  items: Webhook[];
  next_cursor: string | null;
}

export interface UpdateWebhook {
  /**
   * Where deliveries are POSTed. https://; http:// only to networks the operator allows (422 insecure_url); never an internal address the operator has not allowed (422 url_not_allowed); 422 invalid_url if it does not parse
   * @maxLength 2048
   * @pattern ^https?:\/\/\S+$
   * @example "https://hooks.example.com/chronoverse"
   */
  url?: string;
  /**
   * The event types to deliver
   * @maxItems 25
   * @minItems 1
   * @example ["JobCompleted","JobFailed"]
   */
  event_types?: WebhookEventType[];
  /**
   * null: all workflows
   * @format uuid
   * @pattern ^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$
   */
  workflow_id?: string | null;
  /** true enables a disabled subscription again: its failure count restarts and its pending deliveries are sent */
  enabled?: boolean;
}

export interface WebhookDeliveryPage {
  items: WebhookDelivery[];
  next_cursor: string | null;
}

export interface WebhookDelivery {
  /** Also sent as the Chronoverse-Delivery-Id header */
  id: string;
  /** The event (body `id`, header Chronoverse-Event-Id) */
  event_id: string;
  event_type: string;
  workflow_id: string;
  /** `pending`: to be sent (again) at next_attempt_at; `delivered`: a 2xx came back; `failed`: given up after the max age */
  status: WebhookDeliveryStatus;
  attempts: number;
  last_status_code: number | null;
  last_error: string | null;
  next_attempt_at: string | null;
  created_at: string;
  delivered_at: string | null;
}

export type IssuedNatsCredential = NatsCredential & {
  /** Connect to NATS with this token (the `token` connection option). Shown once: only its SHA-256 is kept. */
  token: string;
};

export interface NatsConsumer {
  /** @example "CV_EVENTS" */
  stream: string;
  /** Durable pull consumer; its filter is fixed to your subjects */
  name: string;
  filter_subject: string;
}

export interface NatsCredential {
  id: string;
  name: string;
  user_id: string;
  created_at: string;
  /** Connect with this inbox prefix: replies and pulled messages arrive under it, and nowhere else */
  inbox_prefix: string;
  /**
   * The JetStream API prefix to use (e.g. jetstream(nc, { apiPrefix })): the consumers are reached under it
   * @example "$CV.API"
   */
  api_prefix: string;
  /** What a live (core NATS) subscription may follow */
  subjects: {
    events: string;
    logs: string;
  };
  consumers: NatsConsumer[];
}

export interface IssueNatsCredential {
  /**
   * What the credential is for (shown in the list)
   * @minLength 1
   * @maxLength 100
   * @example "billing sync"
   */
  name: string;
}

export interface NatsCredentialList {
  items: NatsCredential[];
}

export interface AnalyticsSeries {
  bucket: "hour" | "day";
  from: string;
  to: string;
  workflow_id: string | null;
  points: AnalyticsPoint[];
}

export interface AnalyticsPoint {
  /** Bucket start, UTC, RFC 3339 */
  at: string;
  completed: number;
  failed: number;
  canceled: number;
  /** Not ended yet (pending, queued or running) */
  active: number;
  /** Start → end, over jobs that ran to an end */
  duration_p50_ms: number | null;
  duration_p95_ms: number | null;
  /** Nominal time → start, over jobs that started */
  lateness_p50_ms: number | null;
  lateness_p95_ms: number | null;
  /** Log lines stored with a timestamp in the bucket */
  log_lines: number;
}

export interface UserAnalytics {
  workflows: number;
  jobs_total: number;
  jobs_completed: number;
  jobs_failed: number;
  jobs_canceled: number;
  total_duration_ms: number;
  /** Over jobs that ended */
  average_duration_ms: number | null;
  /** Log lines stored now: lines older than the retention are gone, and workflows with log_retention false store none */
  log_lines: number;
}

export interface WorkflowAnalytics {
  workflow_id: string;
  last_job_at: string | null;
  jobs_total: number;
  jobs_completed: number;
  jobs_failed: number;
  jobs_canceled: number;
  total_duration_ms: number;
  /** Over jobs that ended */
  average_duration_ms: number | null;
  /** Log lines stored now: lines older than the retention are gone, and workflows with log_retention false store none */
  log_lines: number;
}

export interface LogPage {
  items: LogLine[];
  next_cursor: string | null;
}

export interface LogLine {
  /**
   * When the line was read (UTC, ms)
   * @format date-time
   */
  timestamp: string;
  message: string;
  /** Position in the attempt, from 1, both streams */
  sequence_num: number;
  stream: "stdout" | "stderr";
  /** The attempt that printed the line */
  attempt: number;
}

export interface LogSearchPage {
  items: LogSearchHit[];
  next_cursor: string | null;
}

export type LogSearchHit = LogLine & {
  matches: LogMatch[];
};

export interface LogMatch {
  /** Offset of the match in the message, in code points */
  start: number;
  /** End of the match (exclusive), in code points */
  end: number;
}

export type QueryParamsType = Record<string | number, any>;
export type ResponseFormat = keyof Omit<Body, "body" | "bodyUsed">;

export interface FullRequestParams extends Omit<RequestInit, "body"> {
  /** set parameter to `true` for call `securityWorker` for this request */
  secure?: boolean;
  /** request path */
  path: string;
  /** content type of request body */
  type?: ContentType;
  /** query params */
  query?: QueryParamsType;
  /** format of response (i.e. response.json() -> format: "json") */
  format?: ResponseFormat;
  /** request body */
  body?: unknown;
  /** base url */
  baseUrl?: string;
  /** request cancellation token */
  cancelToken?: CancelToken;
}

export type RequestParams = Omit<
  FullRequestParams,
  "body" | "method" | "query" | "path"
>;

export interface ApiConfig<SecurityDataType = unknown> {
  baseUrl?: string;
  baseApiParams?: Omit<RequestParams, "baseUrl" | "cancelToken" | "signal">;
  securityWorker?: (
    securityData: SecurityDataType | null,
  ) => Promise<RequestParams | void> | RequestParams | void;
  customFetch?: typeof fetch;
}

export interface HttpResponse<D extends unknown, E extends unknown = unknown>
  extends Response {
  data: D;
  error: E;
}

type CancelToken = Symbol | string | number;

export type ContentType =
  | "application/json"
  | "application/vnd.api+json"
  | "multipart/form-data"
  | "application/x-www-form-urlencoded"
  | "text/plain";

export class HttpClient<SecurityDataType = unknown> {
  public baseUrl: string = "";
  private securityData: SecurityDataType | null = null;
  private securityWorker?: ApiConfig<SecurityDataType>["securityWorker"];
  private abortControllers = new Map<CancelToken, AbortController>();
  private customFetch = (...fetchParams: Parameters<typeof fetch>) =>
    fetch(...fetchParams);

  private baseApiParams: RequestParams = {
    credentials: "same-origin",
    headers: {},
    redirect: "follow",
    referrerPolicy: "no-referrer",
  };

  constructor(apiConfig: ApiConfig<SecurityDataType> = {}) {
    Object.assign(this, apiConfig);
  }

  public setSecurityData = (data: SecurityDataType | null) => {
    this.securityData = data;
  };

  protected encodeQueryParam(key: string, value: any) {
    const encodedKey = encodeURIComponent(key);
    return `${encodedKey}=${encodeURIComponent(typeof value === "number" ? value : `${value}`)}`;
  }

  protected addQueryParam(query: QueryParamsType, key: string) {
    return this.encodeQueryParam(key, query[key]);
  }

  protected addArrayQueryParam(query: QueryParamsType, key: string) {
    const value = query[key];
    return value.map((v: any) => this.encodeQueryParam(key, v)).join("&");
  }

  protected toQueryString(rawQuery?: QueryParamsType): string {
    const query = rawQuery || {};
    const keys = Object.keys(query).filter(
      (key) => "undefined" !== typeof query[key],
    );
    return keys
      .map((key) =>
        Array.isArray(query[key])
          ? this.addArrayQueryParam(query, key)
          : this.addQueryParam(query, key),
      )
      .join("&");
  }

  protected addQueryParams(rawQuery?: QueryParamsType): string {
    const queryString = this.toQueryString(rawQuery);
    return queryString ? `?${queryString}` : "";
  }

  private contentFormatters: Record<ContentType, (input: any) => any> = {
    ["application/json"]: (input: any) =>
      input !== null && (typeof input === "object" || typeof input === "string")
        ? JSON.stringify(input)
        : input,
    ["application/vnd.api+json"]: (input: any) =>
      input !== null && (typeof input === "object" || typeof input === "string")
        ? JSON.stringify(input)
        : input,
    ["text/plain"]: (input: any) =>
      input !== null && typeof input !== "string"
        ? JSON.stringify(input)
        : input,
    ["multipart/form-data"]: (input: any) => {
      if (input instanceof FormData) {
        return input;
      }

      return Object.keys(input || {}).reduce((formData, key) => {
        const property = input[key];
        formData.append(
          key,
          property instanceof Blob
            ? property
            : typeof property === "object" && property !== null
              ? JSON.stringify(property)
              : `${property}`,
        );
        return formData;
      }, new FormData());
    },
    ["application/x-www-form-urlencoded"]: (input: any) =>
      this.toQueryString(input),
  };

  protected mergeRequestParams(
    params1: RequestParams,
    params2?: RequestParams,
  ): RequestParams {
    return {
      ...this.baseApiParams,
      ...params1,
      ...(params2 || {}),
      headers: {
        ...(this.baseApiParams.headers || {}),
        ...(params1.headers || {}),
        ...((params2 && params2.headers) || {}),
      },
    };
  }

  protected createAbortSignal = (
    cancelToken: CancelToken,
  ): AbortSignal | undefined => {
    if (this.abortControllers.has(cancelToken)) {
      const abortController = this.abortControllers.get(cancelToken);
      if (abortController) {
        return abortController.signal;
      }
      return void 0;
    }

    const abortController = new AbortController();
    this.abortControllers.set(cancelToken, abortController);
    return abortController.signal;
  };

  public abortRequest = (cancelToken: CancelToken) => {
    const abortController = this.abortControllers.get(cancelToken);

    if (abortController) {
      abortController.abort();
      this.abortControllers.delete(cancelToken);
    }
  };

  public request = async <T = any, E = any>({
    body,
    secure,
    path,
    type,
    query,
    format,
    baseUrl,
    cancelToken,
    ...params
  }: FullRequestParams): Promise<HttpResponse<T, E>> => {
    const secureParams =
      ((typeof secure === "boolean" ? secure : this.baseApiParams.secure) &&
        this.securityWorker &&
        (await this.securityWorker(this.securityData))) ||
      {};
    const requestParams = this.mergeRequestParams(params, secureParams);
    const queryString = query && this.toQueryString(query);
    const payloadFormatter = this.contentFormatters[type || "application/json"];
    const responseFormat = format || requestParams.format;

    return this.customFetch(
      `${baseUrl || this.baseUrl || ""}${path}${queryString ? `?${queryString}` : ""}`,
      {
        ...requestParams,
        headers: {
          ...(requestParams.headers || {}),
          ...(type && type !== "multipart/form-data"
            ? { "Content-Type": type }
            : {}),
        },
        signal:
          (cancelToken
            ? this.createAbortSignal(cancelToken)
            : requestParams.signal) || null,
        body:
          typeof body === "undefined" || body === null
            ? null
            : payloadFormatter(body),
      },
    ).then(async (response) => {
      const r = response as HttpResponse<T, E>;
      r.data = null as unknown as T;
      r.error = null as unknown as E;

      const responseToParse = responseFormat ? response.clone() : response;
      const data = !responseFormat
        ? r
        : await responseToParse[responseFormat]()
            .then((data) => {
              if (r.ok) {
                r.data = data;
              } else {
                r.error = data;
              }
              return r;
            })
            .catch((e) => {
              r.error = e;
              return r;
            });

      if (cancelToken) {
        this.abortControllers.delete(cancelToken);
      }

      if (!response.ok) throw data;
      return data;
    });
  };
}

/**
 * @title Chronoverse API
 * @version 0.1.0
 *
 * Workflows that fire on a schedule; every fire is a job. Errors are application/problem+json with a stable code. A path asked with a method it does not have answers 405 (method_not_allowed) with an Allow header listing the methods it has; a path the API does not have answers 404 (route_not_found).
 */
export class Api<
  SecurityDataType extends unknown,
> extends HttpClient<SecurityDataType> {
  healthz = {
    /**
     * No description
     *
     * @tags health
     * @name GetHealth
     * @summary The process is alive
     * @request GET:/healthz
     */
    getHealth: (params: RequestParams = {}) =>
      this.request<
        {
          status: "ok";
        },
        any
      >({
        path: `/healthz`,
        method: "GET",
        format: "json",
        ...params,
      }),
  };
  readyz = {
    /**
     * No description
     *
     * @tags health
     * @name GetReadiness
     * @summary Whether every store answers, with latencies
     * @request GET:/readyz
     */
    getReadiness: (params: RequestParams = {}) =>
      this.request<Readiness, Readiness>({
        path: `/readyz`,
        method: "GET",
        format: "json",
        ...params,
      }),
  };
  auth = {
    /**
     * No description
     *
     * @tags auth
     * @name Register
     * @summary Create an account
     * @request POST:/auth/register
     */
    register: (data: RegisterRequest, params: RequestParams = {}) =>
      this.request<RegisteredUser, Problem>({
        path: `/auth/register`,
        method: "POST",
        body: data,
        type: "application/json",
        format: "json",
        ...params,
      }),

    /**
     * No description
     *
     * @tags auth
     * @name Login
     * @summary Log in: a token pair in the body and the session cookies
     * @request POST:/auth/login
     */
    login: (data: LoginRequest, params: RequestParams = {}) =>
      this.request<TokenPair, Problem>({
        path: `/auth/login`,
        method: "POST",
        body: data,
        type: "application/json",
        format: "json",
        ...params,
      }),

    /**
     * No description
     *
     * @tags auth
     * @name RefreshTokens
     * @summary Exchange a refresh token (body or cv_refresh cookie) for a new pair
     * @request POST:/auth/refresh
     */
    refreshTokens: (data?: RefreshRequest, params: RequestParams = {}) =>
      this.request<TokenPair, Problem>({
        path: `/auth/refresh`,
        method: "POST",
        body: data,
        type: "application/json",
        format: "json",
        ...params,
      }),

    /**
     * @description The session is the one of the refresh token (body or cv_refresh cookie) and of the access token (Authorization: Bearer, or the cv_access cookie with X-CSRF-Token), whichever are sent. Every access token of an ended session answers 401 invalid_token until it would have expired.
     *
     * @tags auth
     * @name Logout
     * @summary End the session: its refresh tokens and its access tokens are refused from now on, and the cookies are cleared
     * @request POST:/auth/logout
     */
    logout: (data?: RefreshRequest, params: RequestParams = {}) =>
      this.request<void, Problem>({
        path: `/auth/logout`,
        method: "POST",
        body: data,
        type: "application/json",
        ...params,
      }),
  };
  users = {
    /**
     * No description
     *
     * @tags users
     * @name GetMe
     * @summary The caller
     * @request GET:/users/me
     * @secure
     */
    getMe: (params: RequestParams = {}) =>
      this.request<User, Problem>({
        path: `/users/me`,
        method: "GET",
        secure: true,
        format: "json",
        ...params,
      }),

    /**
     * No description
     *
     * @tags users
     * @name UpdateMe
     * @summary Change the notification preference
     * @request PATCH:/users/me
     * @secure
     */
    updateMe: (data: UpdateUser, params: RequestParams = {}) =>
      this.request<User, Problem>({
        path: `/users/me`,
        method: "PATCH",
        body: data,
        secure: true,
        type: "application/json",
        format: "json",
        ...params,
      }),
  };
  workflows = {
    /**
     * No description
     *
     * @tags workflows
     * @name ListWorkflows
     * @summary The caller’s workflows, newest first
     * @request GET:/workflows
     * @secure
     */
    listWorkflows: (
      query?: {
        /** @maxLength 512 */
        cursor?: string;
        /**
         * @min 1
         * @max 100
         * @default 10
         */
        limit?: number;
        /**
         * Case-insensitive substring of the name
         * @maxLength 255
         */
        query?: string;
        kind?: "HEARTBEAT" | "CONTAINER";
        build_status?:
          | "NONE"
          | "QUEUED"
          | "STARTED"
          | "COMPLETED"
          | "FAILED"
          | "CANCELED";
        status?: "ACTIVE" | "PAUSED" | "TERMINATED";
        /**
         * @min 1
         * @max 10080
         */
        interval_min?: number;
        /**
         * @min 1
         * @max 10080
         */
        interval_max?: number;
      },
      params: RequestParams = {},
    ) =>
      this.request<WorkflowPage, Problem>({
        path: `/workflows`,
        method: "GET",
        query: query,
        secure: true,
        format: "json",
        ...params,
      }),

    /**
     * No description
     *
     * @tags workflows
     * @name CreateWorkflow
     * @summary Create a workflow
     * @request POST:/workflows
     * @secure
     * @link `201.GetWorkflow` operationId:getWorkflow
     * @link `201.UpdateWorkflow` operationId:updateWorkflow
     * @link `201.DeleteWorkflow` operationId:deleteWorkflow
     * @link `201.RunWorkflowNow` operationId:runWorkflowNow
     */
    createWorkflow: (data: CreateWorkflow, params: RequestParams = {}) =>
      this.request<Created, Problem>({
        path: `/workflows`,
        method: "POST",
        body: data,
        secure: true,
        type: "application/json",
        format: "json",
        ...params,
      }),

    /**
     * No description
     *
     * @tags workflows
     * @name GetWorkflow
     * @summary One workflow
     * @request GET:/workflows/{id}
     * @secure
     */
    getWorkflow: (id: string, params: RequestParams = {}) =>
      this.request<Workflow, Problem>({
        path: `/workflows/${id}`,
        method: "GET",
        secure: true,
        format: "json",
        ...params,
      }),

    /**
     * No description
     *
     * @tags workflows
     * @name UpdateWorkflow
     * @summary Change a workflow’s definition
     * @request PUT:/workflows/{id}
     * @secure
     */
    updateWorkflow: (
      id: string,
      data: UpdateWorkflow,
      params: RequestParams = {},
    ) =>
      this.request<Workflow, Problem>({
        path: `/workflows/${id}`,
        method: "PUT",
        body: data,
        secure: true,
        type: "application/json",
        format: "json",
        ...params,
      }),

    /**
     * No description
     *
     * @tags workflows
     * @name DeleteWorkflow
     * @summary Delete a terminated workflow and its logs
     * @request DELETE:/workflows/{id}
     * @secure
     */
    deleteWorkflow: (id: string, params: RequestParams = {}) =>
      this.request<void, Problem>({
        path: `/workflows/${id}`,
        method: "DELETE",
        secure: true,
        ...params,
      }),

    /**
     * No description
     *
     * @tags workflows
     * @name PauseWorkflow
     * @summary Pause: no tick runs until resumed
     * @request POST:/workflows/{id}/pause
     * @secure
     */
    pauseWorkflow: (id: string, params: RequestParams = {}) =>
      this.request<Workflow, Problem>({
        path: `/workflows/${id}/pause`,
        method: "POST",
        secure: true,
        format: "json",
        ...params,
      }),

    /**
     * No description
     *
     * @tags workflows
     * @name ResumeWorkflow
     * @summary Resume, catching up as the policy says
     * @request POST:/workflows/{id}/resume
     * @secure
     */
    resumeWorkflow: (id: string, params: RequestParams = {}) =>
      this.request<Workflow, Problem>({
        path: `/workflows/${id}/resume`,
        method: "POST",
        secure: true,
        format: "json",
        ...params,
      }),

    /**
     * No description
     *
     * @tags workflows
     * @name TerminateWorkflow
     * @summary Terminate for good
     * @request POST:/workflows/{id}/terminate
     * @secure
     */
    terminateWorkflow: (id: string, params: RequestParams = {}) =>
      this.request<Workflow, Problem>({
        path: `/workflows/${id}/terminate`,
        method: "POST",
        secure: true,
        format: "json",
        ...params,
      }),

    /**
     * @description The workflow's audit log: every event in order, paged by `after` (the sequence of the last one read). It stays readable to its owner after the workflow is deleted; to anyone else it is a 404.
     *
     * @tags workflows
     * @name GetWorkflowHistory
     * @summary The workflow’s events (its audit log)
     * @request GET:/workflows/{id}/history
     * @secure
     */
    getWorkflowHistory: (
      id: string,
      query?: {
        /**
         * The next_after of the previous page
         * @min 0
         * @max 9007199254740991
         */
        after?: number;
        /**
         * Commits per page
         * @min 1
         * @max 1000
         * @default 100
         */
        limit?: number;
      },
      params: RequestParams = {},
    ) =>
      this.request<HistoryPage, Problem>({
        path: `/workflows/${id}/history`,
        method: "GET",
        query: query,
        secure: true,
        format: "json",
        ...params,
      }),

    /**
     * No description
     *
     * @tags jobs
     * @name ListJobs
     * @summary The workflow’s jobs, newest first
     * @request GET:/workflows/{id}/jobs
     * @secure
     */
    listJobs: (
      id: string,
      query?: {
        /** @maxLength 512 */
        cursor?: string;
        /**
         * @min 1
         * @max 100
         * @default 10
         */
        limit?: number;
        status?:
          | "PENDING"
          | "QUEUED"
          | "RUNNING"
          | "COMPLETED"
          | "FAILED"
          | "CANCELED";
        trigger?: "AUTOMATIC" | "MANUAL" | "BACKFILL" | "CHAIN";
      },
      params: RequestParams = {},
    ) =>
      this.request<JobPage, Problem>({
        path: `/workflows/${id}/jobs`,
        method: "GET",
        query: query,
        secure: true,
        format: "json",
        ...params,
      }),

    /**
     * No description
     *
     * @tags jobs
     * @name RunWorkflowNow
     * @summary Run the workflow now (a MANUAL job)
     * @request POST:/workflows/{id}/jobs/schedule
     * @secure
     * @link `201.GetJob` operationId:getJob
     */
    runWorkflowNow: (id: string, params: RequestParams = {}) =>
      this.request<ScheduledJob, Problem>({
        path: `/workflows/${id}/jobs/schedule`,
        method: "POST",
        secure: true,
        format: "json",
        ...params,
      }),

    /**
     * No description
     *
     * @tags jobs
     * @name GetJob
     * @summary One job
     * @request GET:/workflows/{id}/jobs/{jobId}
     * @secure
     */
    getJob: (id: string, jobId: string, params: RequestParams = {}) =>
      this.request<Job, Problem>({
        path: `/workflows/${id}/jobs/${jobId}`,
        method: "GET",
        secure: true,
        format: "json",
        ...params,
      }),

    /**
     * No description
     *
     * @tags jobs
     * @name CancelJob
     * @summary Cancel a job that has not ended
     * @request POST:/workflows/{id}/jobs/{jobId}/cancel
     * @secure
     */
    cancelJob: (id: string, jobId: string, params: RequestParams = {}) =>
      this.request<Job, Problem>({
        path: `/workflows/${id}/jobs/${jobId}/cancel`,
        method: "POST",
        secure: true,
        format: "json",
        ...params,
      }),

    /**
     * No description
     *
     * @tags jobs
     * @name GetJobHistory
     * @summary The job’s events
     * @request GET:/workflows/{id}/jobs/{jobId}/history
     * @secure
     */
    getJobHistory: (
      id: string,
      jobId: string,
      query?: {
        /**
         * The next_after of the previous page
         * @min 0
         * @max 9007199254740991
         */
        after?: number;
        /**
         * Commits per page
         * @min 1
         * @max 1000
         * @default 100
         */
        limit?: number;
      },
      params: RequestParams = {},
    ) =>
      this.request<HistoryPage, Problem>({
        path: `/workflows/${id}/jobs/${jobId}/history`,
        method: "GET",
        query: query,
        secure: true,
        format: "json",
        ...params,
      }),

    /**
     * No description
     *
     * @tags schedule
     * @name ListTicks
     * @summary The tick ledger: every tick, fired or skipped
     * @request GET:/workflows/{id}/ticks
     * @secure
     */
    listTicks: (
      id: string,
      query?: {
        /** @maxLength 512 */
        cursor?: string;
        /**
         * @min 1
         * @max 1000
         * @default 100
         */
        limit?: number;
        outcome?: "fired" | "skipped";
      },
      params: RequestParams = {},
    ) =>
      this.request<TickPage, Problem>({
        path: `/workflows/${id}/ticks`,
        method: "GET",
        query: query,
        secure: true,
        format: "json",
        ...params,
      }),

    /**
     * No description
     *
     * @tags schedule
     * @name PreviewSchedule
     * @summary The next fire times
     * @request GET:/workflows/{id}/schedule/preview
     * @secure
     */
    previewSchedule: (
      id: string,
      query?: {
        /**
         * @min 1
         * @max 100
         * @default 10
         */
        count?: number;
      },
      params: RequestParams = {},
    ) =>
      this.request<SchedulePreview, Problem>({
        path: `/workflows/${id}/schedule/preview`,
        method: "GET",
        query: query,
        secure: true,
        format: "json",
        ...params,
      }),

    /**
     * @description Every nominal tick of the workflow's schedule in [from, to) runs now as a job with trigger BACKFILL (also ticks before the workflow was created; jitter and the catch-up window do not apply). Ticks an earlier backfill of the workflow fired are left out, so the same range asked twice fires nothing the second time. At most 1000 ticks (CV_BACKFILL_MAX_TICKS): more is a 422 (backfill_too_large); `to` after now is a 422 (backfill_in_future); a terminated workflow is a 409.
     *
     * @tags schedule
     * @name BackfillWorkflow
     * @summary Fire the schedule’s past ticks in a range
     * @request POST:/workflows/{id}/backfill
     * @secure
     */
    backfillWorkflow: (
      id: string,
      data: BackfillRequest,
      params: RequestParams = {},
    ) =>
      this.request<BackfillStarted, Problem>({
        path: `/workflows/${id}/backfill`,
        method: "POST",
        body: data,
        secure: true,
        type: "application/json",
        format: "json",
        ...params,
      }),

    /**
     * No description
     *
     * @tags schedule
     * @name ListBackfills
     * @summary The workflow’s backfills, with progress
     * @request GET:/workflows/{id}/backfills
     * @secure
     */
    listBackfills: (id: string, params: RequestParams = {}) =>
      this.request<BackfillList, Problem>({
        path: `/workflows/${id}/backfills`,
        method: "GET",
        secure: true,
        format: "json",
        ...params,
      }),

    /**
     * No description
     *
     * @tags logs
     * @name ListJobLogs
     * @summary A page of the job's log lines
     * @request GET:/workflows/{id}/jobs/{jobId}/logs
     * @secure
     */
    listJobLogs: (
      id: string,
      jobId: string,
      query?: {
        /** @maxLength 512 */
        cursor?: string;
        /**
         * @min 1
         * @max 1000
         * @default 100
         */
        limit?: number;
        /**
         * By sequence: desc (newest first, the default) or asc
         * @default "desc"
         */
        order?: "asc" | "desc";
        stream?: "stdout" | "stderr";
      },
      params: RequestParams = {},
    ) =>
      this.request<LogPage, Problem>({
        path: `/workflows/${id}/jobs/${jobId}/logs`,
        method: "GET",
        query: query,
        secure: true,
        format: "json",
        ...params,
      }),

    /**
     * No description
     *
     * @tags logs
     * @name SearchJobLogs
     * @summary Lines containing a text (case-insensitive), with the offsets of every match
     * @request GET:/workflows/{id}/jobs/{jobId}/logs/search
     * @secure
     */
    searchJobLogs: (
      id: string,
      jobId: string,
      query: {
        /**
         * Case-insensitive substring of the line
         * @minLength 1
         * @maxLength 256
         */
        q: string;
        /** @maxLength 512 */
        cursor?: string;
        /**
         * @min 1
         * @max 1000
         * @default 100
         */
        limit?: number;
        /**
         * By sequence: desc (newest first, the default) or asc
         * @default "desc"
         */
        order?: "asc" | "desc";
        stream?: "stdout" | "stderr";
      },
      params: RequestParams = {},
    ) =>
      this.request<LogSearchPage, Problem>({
        path: `/workflows/${id}/jobs/${jobId}/logs/search`,
        method: "GET",
        query: query,
        secure: true,
        format: "json",
        ...params,
      }),

    /**
     * No description
     *
     * @tags logs
     * @name DownloadJobLog
     * @summary The job's whole log, oldest first, as a download (final jobs only)
     * @request GET:/workflows/{id}/jobs/{jobId}/logs/raw
     * @secure
     */
    downloadJobLog: (
      id: string,
      jobId: string,
      query?: {
        /**
         * txt: the lines; json: one array; jsonl: one object per line
         * @default "txt"
         */
        format?: "txt" | "json" | "jsonl";
      },
      params: RequestParams = {},
    ) =>
      this.request<string, Problem>({
        path: `/workflows/${id}/jobs/${jobId}/logs/raw`,
        method: "GET",
        query: query,
        secure: true,
        format: "json",
        ...params,
      }),

    /**
     * No description
     *
     * @tags logs
     * @name StreamJobLog
     * @summary The job's log, live (server-sent events), then `end` once the job is final
     * @request GET:/workflows/{id}/jobs/{jobId}/events
     * @secure
     */
    streamJobLog: (id: string, jobId: string, params: RequestParams = {}) =>
      this.request<string, Problem>({
        path: `/workflows/${id}/jobs/${jobId}/events`,
        method: "GET",
        secure: true,
        ...params,
      }),
  };
  notifications = {
    /**
     * No description
     *
     * @tags notifications
     * @name ListNotifications
     * @summary The caller’s notifications
     * @request GET:/notifications
     * @secure
     */
    listNotifications: (
      query?: {
        /** @maxLength 512 */
        cursor?: string;
        /**
         * @min 1
         * @max 1000
         * @default 100
         */
        limit?: number;
        /** true: only unread notifications (the original showed only those) */
        unread?: "true" | "false";
      },
      params: RequestParams = {},
    ) =>
      this.request<NotificationPage, Problem>({
        path: `/notifications`,
        method: "GET",
        query: query,
        secure: true,
        format: "json",
        ...params,
      }),

    /**
     * No description
     *
     * @tags notifications
     * @name MarkNotificationsRead
     * @summary Mark notifications read
     * @request POST:/notifications/read
     * @secure
     */
    markNotificationsRead: (
      data: MarkNotificationsRead,
      params: RequestParams = {},
    ) =>
      this.request<void, Problem>({
        path: `/notifications/read`,
        method: "POST",
        body: data,
        secure: true,
        type: "application/json",
        ...params,
      }),
  };
  apiKeys = {
    /**
     * @description A key for automation, sent as `Authorization: Bearer <key>`. It acts as the caller within its scopes; it cannot manage keys or NATS credentials. A user holds at most 100 keys (409 too_many_api_keys).
     *
     * @tags api-keys
     * @name CreateApiKey
     * @summary Create an API key
     * @request POST:/api-keys
     * @secure
     */
    createApiKey: (data: CreateApiKey, params: RequestParams = {}) =>
      this.request<CreatedApiKey, Problem>({
        path: `/api-keys`,
        method: "POST",
        body: data,
        secure: true,
        type: "application/json",
        format: "json",
        ...params,
      }),

    /**
     * No description
     *
     * @tags api-keys
     * @name ListApiKeys
     * @summary The caller’s API keys
     * @request GET:/api-keys
     * @secure
     */
    listApiKeys: (params: RequestParams = {}) =>
      this.request<ApiKeyList, Problem>({
        path: `/api-keys`,
        method: "GET",
        secure: true,
        format: "json",
        ...params,
      }),

    /**
     * @description Requests with the key are refused from now on: by every API process within a second.
     *
     * @tags api-keys
     * @name RevokeApiKey
     * @summary Revoke an API key
     * @request DELETE:/api-keys/{id}
     * @secure
     */
    revokeApiKey: (id: string, params: RequestParams = {}) =>
      this.request<void, Problem>({
        path: `/api-keys/${id}`,
        method: "DELETE",
        secure: true,
        ...params,
      }),
  };
  webhooks = {
    /**
     * @description Every event of the chosen types (of all your workflows, or of one) that occurs from now on is POSTed to the URL as JSON, signed (docs/webhooks.md), retried with backoff for up to a day, in order per workflow. At most 25 per user (409 too_many_webhooks).
     *
     * @tags webhooks
     * @name CreateWebhook
     * @summary Subscribe a URL to events
     * @request POST:/webhooks
     * @secure
     * @link `201.GetWebhook` operationId:getWebhook
     * @link `201.ListWebhookDeliveries` operationId:listWebhookDeliveries
     */
    createWebhook: (data: CreateWebhook, params: RequestParams = {}) =>
      this.request<CreatedWebhook, Problem>({
        path: `/webhooks`,
        method: "POST",
        body: data,
        secure: true,
        type: "application/json",
        format: "json",
        ...params,
      }),

    /**
     * No description
     *
     * @tags webhooks
     * @name ListWebhooks
     * @summary The caller’s webhooks
     * @request GET:/webhooks
     * @secure
     */
    listWebhooks: (
      query?: {
        /** @maxLength 512 */
        cursor?: string;
        /**
         * @min 1
         * @max 100
         * @default 50
         */
        limit?: number;
      },
      params: RequestParams = {},
    ) =>
      this.request<WebhookPage, Problem>({
        path: `/webhooks`,
        method: "GET",
        query: query,
        secure: true,
        format: "json",
        ...params,
      }),

    /**
     * No description
     *
     * @tags webhooks
     * @name GetWebhook
     * @summary One webhook
     * @request GET:/webhooks/{id}
     * @secure
     */
    getWebhook: (id: string, params: RequestParams = {}) =>
      this.request<Webhook, Problem>({
        path: `/webhooks/${id}`,
        method: "GET",
        secure: true,
        format: "json",
        ...params,
      }),

    /**
     * No description
     *
     * @tags webhooks
     * @name UpdateWebhook
     * @summary Change a webhook, or enable or disable it
     * @request PATCH:/webhooks/{id}
     * @secure
     */
    updateWebhook: (
      id: string,
      data: UpdateWebhook,
      params: RequestParams = {},
    ) =>
      this.request<Webhook, Problem>({
        path: `/webhooks/${id}`,
        method: "PATCH",
        body: data,
        secure: true,
        type: "application/json",
        format: "json",
        ...params,
      }),

    /**
     * @description Nothing more is sent for it, and its delivery log goes with it.
     *
     * @tags webhooks
     * @name DeleteWebhook
     * @summary Delete a webhook
     * @request DELETE:/webhooks/{id}
     * @secure
     */
    deleteWebhook: (id: string, params: RequestParams = {}) =>
      this.request<void, Problem>({
        path: `/webhooks/${id}`,
        method: "DELETE",
        secure: true,
        ...params,
      }),

    /**
     * @description One delivery per event sent (or to be sent) to the subscription: its status, attempts, last answer or error, and when it is tried next.
     *
     * @tags webhooks
     * @name ListWebhookDeliveries
     * @summary A webhook’s delivery log
     * @request GET:/webhooks/{id}/deliveries
     * @secure
     */
    listWebhookDeliveries: (
      id: string,
      query?: {
        /** @maxLength 512 */
        cursor?: string;
        /**
         * @min 1
         * @max 100
         * @default 50
         */
        limit?: number;
        /** `pending`: to be sent (again) at next_attempt_at; `delivered`: a 2xx came back; `failed`: given up after the max age */
        status?: WebhookDeliveryStatus;
      },
      params: RequestParams = {},
    ) =>
      this.request<WebhookDeliveryPage, Problem>({
        path: `/webhooks/${id}/deliveries`,
        method: "GET",
        query: query,
        secure: true,
        format: "json",
        ...params,
      }),
  };
  integrations = {
    /**
     * @description A token that lets a NATS client read the caller’s events (cv.evt.<user>.>) and job logs (cv.logs.<user>.>), live or through the two durable pull consumers created here, and nothing else. Needs a nats-server configured for integrators (`chronoverse nats-config`, docs/security.md).
     *
     * @tags integrations
     * @name IssueNatsCredential
     * @summary Issue a NATS credential for an integrator
     * @request POST:/integrations/nats-credentials
     * @secure
     */
    issueNatsCredential: (
      data: IssueNatsCredential,
      params: RequestParams = {},
    ) =>
      this.request<IssuedNatsCredential, Problem>({
        path: `/integrations/nats-credentials`,
        method: "POST",
        body: data,
        secure: true,
        type: "application/json",
        format: "json",
        ...params,
      }),

    /**
     * No description
     *
     * @tags integrations
     * @name ListNatsCredentials
     * @summary The caller’s NATS credentials
     * @request GET:/integrations/nats-credentials
     * @secure
     */
    listNatsCredentials: (params: RequestParams = {}) =>
      this.request<NatsCredentialList, Problem>({
        path: `/integrations/nats-credentials`,
        method: "GET",
        secure: true,
        format: "json",
        ...params,
      }),

    /**
     * @description New connections with its token are refused at once and its consumers are deleted; a connection already open is closed by the server when its authorization ends (CV_NATS_SESSION_SECONDS).
     *
     * @tags integrations
     * @name RevokeNatsCredential
     * @summary Revoke a NATS credential
     * @request DELETE:/integrations/nats-credentials/{id}
     * @secure
     */
    revokeNatsCredential: (id: string, params: RequestParams = {}) =>
      this.request<void, Problem>({
        path: `/integrations/nats-credentials/${id}`,
        method: "DELETE",
        secure: true,
        ...params,
      }),
  };
  analytics = {
    /**
     * @description Jobs by the bucket of their nominal time (by outcome, with duration and lateness percentiles) and log lines by the bucket of their timestamp, one point per bucket of the range, oldest first. At most 744 buckets: a longer range is a 422 (range_too_large).
     *
     * @tags analytics
     * @name GetAnalyticsSeries
     * @summary Jobs, durations, lateness and log lines over time
     * @request GET:/analytics/series
     * @secure
     */
    getAnalyticsSeries: (
      query?: {
        /**
         * Bucket length (UTC)
         * @default "hour"
         */
        bucket?: "hour" | "day";
        /**
         * Start (aligned down to its bucket); default: 24 hours or 30 days before `to`
         * @format date-time
         * @maxLength 64
         * @pattern ^\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$
         */
        from?: string;
        /**
         * End, exclusive (aligned up to its bucket); default: the end of the current bucket
         * @format date-time
         * @maxLength 64
         * @pattern ^\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$
         */
        to?: string;
        /**
         * One workflow of the caller’s; default: all of them
         * @format uuid
         */
        workflow_id?: string;
      },
      params: RequestParams = {},
    ) =>
      this.request<AnalyticsSeries, Problem>({
        path: `/analytics/series`,
        method: "GET",
        query: query,
        secure: true,
        format: "json",
        ...params,
      }),

    /**
     * No description
     *
     * @tags analytics
     * @name GetAnalytics
     * @summary The caller’s totals
     * @request GET:/analytics
     * @secure
     */
    getAnalytics: (params: RequestParams = {}) =>
      this.request<UserAnalytics, Problem>({
        path: `/analytics`,
        method: "GET",
        secure: true,
        format: "json",
        ...params,
      }),

    /**
     * No description
     *
     * @tags analytics
     * @name GetWorkflowAnalytics
     * @summary One workflow’s totals
     * @request GET:/analytics/workflows/{id}
     * @secure
     */
    getWorkflowAnalytics: (id: string, params: RequestParams = {}) =>
      this.request<WorkflowAnalytics, Problem>({
        path: `/analytics/workflows/${id}`,
        method: "GET",
        secure: true,
        format: "json",
        ...params,
      }),
  };
  events = {
    /**
     * No description
     *
     * @tags events
     * @name StreamEvents
     * @summary The signed-in user's state changes and notifications, live (server-sent events)
     * @request GET:/events
     * @secure
     */
    streamEvents: (params: RequestParams = {}) =>
      this.request<string, Problem>({
        path: `/events`,
        method: "GET",
        secure: true,
        ...params,
      }),
  };
}
