// Every PostgreSQL migration, by name (timestamp first, so the order is the name order). Listed
// statically rather than read from the folder so it works the same under tsx, vitest and a bundle.
import type { Migration } from 'kysely';
import * as projectionCheckpoints from './20261127_0001_projection_checkpoints.ts';
import * as readModels from './20261127_0002_read_models.ts';
import * as auth from './20261127_0003_auth.ts';
import * as idempotencyKeys from './20261127_0004_idempotency_keys.ts';
import * as tickLedger from './20261127_0005_tick_ledger.ts';
import * as jobEventState from './20261127_0006_job_event_state.ts';
import * as workflowLogRetention from './20261127_0007_workflow_log_retention.ts';
import * as tickWithdrawals from './20261206_0008_tick_withdrawals.ts';
import * as jobsByNominalTime from './20261206_0009_jobs_by_nominal_time.ts';
import * as natsCredentials from './20261206_0010_nats_credentials.ts';
import * as apiKeys from './20261206_0011_api_keys.ts';
import * as jitterFireAt from './20261206_0012_jitter_fire_at.ts';
import * as backfills from './20261206_0013_backfills.ts';
import * as chains from './20261206_0014_chains.ts';
import * as webhooks from './20261206_0015_webhooks.ts';
import * as eventArchive from './20261206_0016_event_archive.ts';

export const postgresMigrations: Record<string, Migration> = {
  '20261127_0001_projection_checkpoints': projectionCheckpoints,
  '20261127_0002_read_models': readModels,
  '20261127_0003_auth': auth,
  '20261127_0004_idempotency_keys': idempotencyKeys,
  '20261127_0005_tick_ledger': tickLedger,
  '20261127_0006_job_event_state': jobEventState,
  '20261127_0007_workflow_log_retention': workflowLogRetention,
  '20261206_0008_tick_withdrawals': tickWithdrawals,
  '20261206_0009_jobs_by_nominal_time': jobsByNominalTime,
  '20261206_0010_nats_credentials': natsCredentials,
  '20261206_0011_api_keys': apiKeys,
  '20261206_0012_jitter_fire_at': jitterFireAt,
  '20261206_0013_backfills': backfills,
  '20261206_0014_chains': chains,
  '20261206_0015_webhooks': webhooks,
  '20261206_0016_event_archive': eventArchive,
};
