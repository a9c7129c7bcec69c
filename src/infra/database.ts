// The PostgreSQL schema as Kysely sees it: one interface per table. Migrations in migrations/postgres
// create these tables; keep the two in step. Rows of the read models are written only by projections.
import type { Generated, Insertable, Selectable } from 'kysely';
import type { WorkflowChain, WorkflowSchedule } from '../events/workflow-events.ts';

export interface ProjectionCheckpointTable {
  projection: string;
  version: number;
  last_sequence: number;
  updated_at: Generated<Date>;
}

export interface UserTable {
  id: string;
  email: string;
  notification_preference: 'ALERTS' | 'ALL' | 'NONE';
  created_at: Date;
  updated_at: Date;
  version: number;
}

export type WorkflowStatus = 'ACTIVE' | 'PAUSED' | 'TERMINATED';

export interface WorkflowTable {
  id: string;
  user_id: string;
  name: string;
  kind: 'HEARTBEAT' | 'CONTAINER';
  payload: Record<string, unknown>;
  schedule: WorkflowSchedule;
  interval_minutes: number | null;
  status: WorkflowStatus;
  build_status: 'NONE' | 'QUEUED' | 'STARTED' | 'COMPLETED' | 'FAILED' | 'CANCELED';
  build_error: string | null;
  image_digest: string | null;
  max_consecutive_job_failures_allowed: number;
  /** false: the lines of the workflow's jobs are not stored (migration 0007; older rows are true). */
  log_retention: boolean;
  consecutive_job_failures: number;
  last_fired_at: Date | null;
  /** Nominal time of the last tick decided either way (fired or skipped). */
  last_tick_at: Date | null;
  /** Pauses that withdrew ticks decided ahead, each moving last_tick_at back (migration 0008). */
  tick_withdrawals: number;
  /** Workflows to run when a job of this one ends, by outcome (migration 0014); null: none. */
  chain: WorkflowChain | null;
  terminated_at: Date | null;
  terminated_reason: string | null;
  created_at: Date;
  updated_at: Date;
  version: number;
}

export interface JobTable {
  id: string;
  workflow_id: string;
  user_id: string;
  kind: 'HEARTBEAT' | 'CONTAINER';
  status: 'PENDING' | 'QUEUED' | 'RUNNING' | 'COMPLETED' | 'FAILED' | 'CANCELED';
  trigger: 'AUTOMATIC' | 'MANUAL' | 'BACKFILL' | 'CHAIN';
  attempt: number;
  scheduled_at: Date;
  /** With jitter: when the job is to start (null: at scheduled_at). */
  fire_at: Date | null;
  /** Trigger BACKFILL: the backfill that fired it. */
  backfill_id: string | null;
  /** Trigger CHAIN: the job whose end started it, its workflow, and how deep in the chain it is. */
  caused_by_workflow_id: string | null;
  caused_by_job_id: string | null;
  chain_depth: number | null;
  queued_at: Date | null;
  started_at: Date | null;
  completed_at: Date | null;
  not_before: Date | null;
  executor_id: string | null;
  exit_code: number | null;
  failure_kind: 'USER' | 'SYSTEM' | null;
  failure_reason: string | null;
  error_message: string | null;
  image_digest: string | null;
  created_at: Date;
  updated_at: Date;
  version: number;
}

export type NotificationKind = 'WEB_ALERT' | 'WEB_ERROR' | 'WEB_WARN' | 'WEB_SUCCESS' | 'WEB_INFO';

export interface NotificationTable {
  id: string;
  user_id: string;
  kind: NotificationKind;
  title: string;
  message: string;
  entity_id: string;
  entity_type: 'WORKFLOW' | 'JOB' | 'WEBHOOK';
  action_url: string;
  read_at: Date | null;
  created_at: Date;
}

export interface WorkflowStatsTable {
  workflow_id: string;
  user_id: string;
  jobs_total: number;
  jobs_completed: number;
  jobs_failed: number;
  jobs_canceled: number;
  total_duration_ms: number;
  log_lines: number;
  last_job_at: Date | null;
}

export interface UserStatsTable {
  user_id: string;
  workflows: number;
  jobs_total: number;
  jobs_completed: number;
  jobs_failed: number;
  jobs_canceled: number;
  total_duration_ms: number;
  log_lines: number;
}

export interface WorkflowTickTable {
  workflow_id: string;
  nominal_at: Date;
  user_id: string;
  outcome: 'fired' | 'skipped';
  reason: string | null;
  job_id: string | null;
  /** A fired tick of a jittered schedule: when its job is to start. */
  fire_at: Date | null;
  recorded_at: Date;
}

export interface BackfillTable {
  id: string;
  workflow_id: string;
  user_id: string;
  range_from: Date;
  range_to: Date;
  overlap: 'allow' | 'buffer';
  jobs: number;
  covered: number;
  created_at: Date;
}

export interface JobEventStateTable {
  job_id: string;
  workflow_id: string;
  started_at: Date | null;
}

/** Login credentials (written by the auth routes, not by projections); email is lower-cased. */
export interface UserCredentialsTable {
  user_id: string;
  email: string;
  /** PHC-style argon2id string, see src/auth/password.ts. */
  password_hash: string;
  created_at: Generated<Date>;
}

/** One refresh token of a login's rotation family, stored only as the SHA-256 (hex) of the token. */
export interface RefreshTokenTable {
  id: string;
  family_id: string;
  user_id: string;
  token_hash: string;
  expires_at: Date;
  created_at: Generated<Date>;
  used_at: Date | null;
  revoked_at: Date | null;
}

/** An integrator's NATS credential (src/auth/nats-credentials.ts), stored only as the SHA-256 (hex) of its token. */
export interface NatsCredentialTable {
  id: string;
  user_id: string;
  name: string;
  token_hash: string;
  created_at: Generated<Date>;
  revoked_at: Date | null;
}

export interface ApiKeyTable {
  id: string;
  user_id: string;
  name: string;
  scopes: string[];
  token_hash: string;
  created_at: Generated<Date>;
  expires_at: Date | null;
  last_used_at: Date | null;
  revoked_at: Date | null;
}

export interface IdempotencyKeyTable {
  user_id: string;
  key: string;
  request_hash: string;
  created_at: Generated<Date>;
}

/** An outbound webhook subscription (src/http/webhook-routes.ts); its secret sealed (src/infra/secret-box.ts). */
export interface WebhookTable {
  id: string;
  user_id: string;
  url: string;
  event_types: string[];
  workflow_id: string | null;
  secret_sealed: string;
  enabled: boolean;
  disabled_reason: string | null;
  consecutive_failures: number;
  created_at: Date;
  updated_at: Date;
}

export type WebhookDeliveryStatus = 'pending' | 'delivered' | 'failed';

/** One event owed to one subscription (src/projections/webhook-intake.ts), and how sending it went. */
export interface WebhookDeliveryTable {
  id: string;
  serial: Generated<string>;
  webhook_id: string;
  user_id: string;
  event_id: string;
  event_type: string;
  workflow_id: string;
  /** The stream sequence of the event's commit (bigint: read as a string). */
  sequence: string | number;
  body: string;
  status: WebhookDeliveryStatus;
  attempts: number;
  last_status_code: number | null;
  last_error: string | null;
  next_attempt_at: Date | null;
  created_at: Date;
  delivered_at: Date | null;
}

/** An actor's subject moved from the hot log to the archive (src/projections/retention-sweep.ts). */
export interface ArchivedSubjectTable {
  subject: string;
  user_id: string;
  aggregate: string;
  aggregate_id: string;
  commits: number;
  /** The stream sequence of the subject's last archived commit (bigint: read as a string). */
  last_sequence: string | number;
  finished_at: Date;
  archived_at: Date;
}

export interface Database {
  projection_checkpoints: ProjectionCheckpointTable;
  users: UserTable;
  workflows: WorkflowTable;
  jobs: JobTable;
  notifications: NotificationTable;
  workflow_stats: WorkflowStatsTable;
  user_stats: UserStatsTable;
  job_event_state: JobEventStateTable;
  workflow_ticks: WorkflowTickTable;
  backfills: BackfillTable;
  user_credentials: UserCredentialsTable;
  refresh_tokens: RefreshTokenTable;
  nats_credentials: NatsCredentialTable;
  api_keys: ApiKeyTable;
  idempotency_keys: IdempotencyKeyTable;
  webhooks: WebhookTable;
  webhook_deliveries: WebhookDeliveryTable;
  archived_subjects: ArchivedSubjectTable;
}

export type UserRow = Selectable<UserTable>;
export type WorkflowRow = Selectable<WorkflowTable>;
export type JobRow = Selectable<JobTable>;
export type NotificationRow = Insertable<NotificationTable>;
export type WorkflowStatsRow = Selectable<WorkflowStatsTable>;
export type UserStatsRow = Selectable<UserStatsTable>;
