// Request and response shapes of the job API.
import { z } from '@hono/zod-openapi';
import { uuidParam } from './id-schemas.ts';

const Timestamp = z.string().openapi({ format: 'date-time' });
const JobStatus = z.enum(['PENDING', 'QUEUED', 'RUNNING', 'COMPLETED', 'FAILED', 'CANCELED']);

export const Job = z
  .object({
    id: z.string(),
    workflow_id: z.string(),
    kind: z.enum(['HEARTBEAT', 'CONTAINER']),
    status: JobStatus,
    trigger: z.enum(['AUTOMATIC', 'MANUAL', 'BACKFILL', 'CHAIN']),
    attempt: z.number().int(),
    scheduled_at: Timestamp.openapi({
      description: "A scheduled job's nominal time (its tick); a run-now's: when it was asked for",
    }),
    caused_by: z
      .object({ workflow_id: z.string(), job_id: z.string(), depth: z.number().int() })
      .nullable()
      .openapi({
        description: 'Trigger CHAIN: the job whose end started this one, and how deep in the chain it is',
      }),
    backfill_id: z.string().nullable().openapi({
      description: 'Trigger BACKFILL: the backfill that fired it (GET /workflows/{id}/backfills)',
    }),
    fire_at: Timestamp.nullable().openapi({
      description:
        "With the schedule's jitter: when the job is to start (scheduled_at plus the workflow's offset); lateness counts from it. Null: at scheduled_at",
    }),
    queued_at: Timestamp.nullable(),
    started_at: Timestamp.nullable(),
    completed_at: Timestamp.nullable(),
    not_before: Timestamp.nullable(),
    exit_code: z.number().int().nullable(),
    failure_kind: z.enum(['USER', 'SYSTEM']).nullable(),
    failure_reason: z.string().nullable(),
    error_message: z.string().nullable(),
    image_digest: z.string().nullable(),
    created_at: Timestamp,
    updated_at: Timestamp,
    version: z.number().int(),
  })
  .openapi('Job');

export const JobPage = z
  .object({ items: z.array(Job), next_cursor: z.string().nullable() })
  .openapi('JobPage');

export const JobListQuery = z.object({
  cursor: z.string().max(512).optional(),
  limit: z.coerce.number().int().min(1).max(100).default(10),
  status: JobStatus.optional(),
  trigger: z.enum(['AUTOMATIC', 'MANUAL', 'BACKFILL', 'CHAIN']).optional(),
});

export const JobParams = z.object({ id: uuidParam('id'), jobId: uuidParam('jobId') });

export const Scheduled = z
  .object({ job_id: z.string(), scheduled_at: Timestamp.nullable() })
  .openapi('ScheduledJob');
