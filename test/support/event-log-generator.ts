// Writes a realistic event log through the real command handler: users (some with preference ALL),
// HEARTBEAT workflows, and for each workflow a run of jobs that complete, fail (USER, or SYSTEM and
// retried) or are canceled, each outcome recorded on its workflow. Used by projection tests and the
// benchmark. Deterministic ids per (seed, index) so two runs write the same shape.
import type { CommandHandler } from '../../src/actors/command-handler.ts';
import { jobDecider } from '../../src/actors/job-decider.ts';
import { userDecider } from '../../src/actors/user-decider.ts';
import { workflowDecider } from '../../src/actors/workflow-decider.ts';
import { newId } from './fixtures.ts';

export interface LogShape {
  users: number;
  workflowsPerUser: number;
  jobsPerWorkflow: number;
  /** Workflows driven at once. */
  concurrency?: number;
}

export interface GeneratedLog {
  userIds: string[];
  workflowIds: string[];
  commands: number;
}

export async function generateEventLog(handler: CommandHandler, shape: LogShape): Promise<GeneratedLog> {
  let commands = 0;
  const send = async <C extends { type: string }>(
    decider: Parameters<CommandHandler['handle']>[0],
    userId: string,
    aggregateId: string,
    command: C,
  ) => {
    commands++;
    // biome-ignore lint/suspicious/noExplicitAny: the generator drives every decider through one helper
    await handler.handle(decider as any, { commandId: newId(), userId, aggregateId, command } as any);
  };
  const userIds = Array.from({ length: shape.users }, () => newId());
  await Promise.all(
    userIds.map(async (userId, i) => {
      await send(userDecider, userId, userId, {
        type: 'RegisterUser',
        data: { user_id: userId, email: `user${i}@example.com` },
      });
      if (i % 2 === 0) {
        await send(userDecider, userId, userId, {
          type: 'ChangeUserPreferences',
          data: { notification_preference: 'ALL' },
        });
      }
    }),
  );
  const workflows = userIds.flatMap((userId) =>
    Array.from({ length: shape.workflowsPerUser }, () => ({ userId, workflowId: newId() })),
  );
  const driveWorkflow = async ({ userId, workflowId }: { userId: string; workflowId: string }) => {
    await send(workflowDecider, userId, workflowId, {
      type: 'CreateWorkflow',
      data: {
        workflow_id: workflowId,
        user_id: userId,
        name: `wf ${workflowId.slice(0, 8)}`,
        kind: 'HEARTBEAT',
        payload: { endpoint: 'http://127.0.0.1:9/health' },
        schedule: { type: 'interval', minutes: 1 },
        max_consecutive_job_failures_allowed: 100,
      },
    });
    for (let i = 0; i < shape.jobsPerWorkflow; i++) {
      const jobId = newId();
      const nominal = new Date(Date.UTC(2026, 10, 27, 0, i)).toISOString();
      await send(workflowDecider, userId, workflowId, {
        type: 'FireTick',
        data: { nominal_at: nominal, job_id: jobId, overlap: 'allow' },
      });
      await send(jobDecider, userId, jobId, {
        type: 'CreateJob',
        data: {
          job_id: jobId,
          user_id: userId,
          workflow_id: workflowId,
          scheduled_at: nominal,
          trigger: 'AUTOMATIC',
          kind: 'HEARTBEAT',
          payload: {},
        },
      });
      await send(jobDecider, userId, jobId, { type: 'QueueJob', data: {} });
      await send(jobDecider, userId, jobId, {
        type: 'StartJob',
        data: { attempt: 1, executor_id: 'exec-1' },
      });
      let outcome: 'COMPLETED' | 'FAILED' | 'CANCELED' = 'COMPLETED';
      if (i % 7 === 3) {
        await send(jobDecider, userId, jobId, { type: 'CancelJob', data: { reason: 'user' } });
        outcome = 'CANCELED';
      } else if (i % 5 === 1) {
        await send(jobDecider, userId, jobId, {
          type: 'FailJob',
          data: {
            attempt: 1,
            failure_kind: 'USER',
            reason: 'exit_code',
            exit_code: 1,
            error_message: 'exit 1',
            retryable: false,
          },
        });
        outcome = 'FAILED';
      } else if (i % 5 === 2) {
        // A SYSTEM failure is retried as attempt 2, which then completes.
        await send(jobDecider, userId, jobId, {
          type: 'FailJob',
          data: {
            attempt: 1,
            failure_kind: 'SYSTEM',
            reason: 'executor_lost',
            error_message: 'lost',
            retryable: true,
          },
        });
        await send(jobDecider, userId, jobId, {
          type: 'StartJob',
          data: { attempt: 2, executor_id: 'exec-2' },
        });
        await send(jobDecider, userId, jobId, { type: 'CompleteJob', data: { attempt: 2, exit_code: 0 } });
      } else {
        await send(jobDecider, userId, jobId, { type: 'CompleteJob', data: { attempt: 1, exit_code: 0 } });
      }
      await send(workflowDecider, userId, workflowId, {
        type: 'RecordJobOutcome',
        data: { job_id: jobId, outcome },
      });
    }
    if (workflowId.charCodeAt(0) % 3 === 0)
      await send(workflowDecider, userId, workflowId, { type: 'PauseWorkflow', data: {} });
  };
  const queue = [...workflows];
  await Promise.all(
    Array.from({ length: shape.concurrency ?? 32 }, async () => {
      for (let w = queue.shift(); w; w = queue.shift()) await driveWorkflow(w);
    }),
  );
  return { userIds, workflowIds: workflows.map((w) => w.workflowId), commands };
}
