// Commands and ids for tests of the core.
import { randomUUID } from 'node:crypto';
import type { CommandHandler } from '../../src/actors/command-handler.ts';
import { workflowDecider } from '../../src/actors/workflow-decider.ts';
import type { CreateJob } from '../../src/events/job-events.ts';
import type { CreateWorkflow } from '../../src/events/workflow-events.ts';

export const newId = (): string => randomUUID();

export function createHeartbeat(
  userId: string,
  workflowId: string,
  overrides: Partial<CreateWorkflow['data']> = {},
): CreateWorkflow {
  return {
    type: 'CreateWorkflow',
    data: {
      workflow_id: workflowId,
      user_id: userId,
      name: 'health of example',
      kind: 'HEARTBEAT',
      payload: { endpoint: 'http://127.0.0.1:9/health' },
      schedule: { type: 'interval', minutes: 1 },
      max_consecutive_job_failures_allowed: 3,
      ...overrides,
    },
  };
}

/** Creates a HEARTBEAT workflow through `commands` (defaults of `createHeartbeat`). */
export function createHeartbeatWorkflow(commands: CommandHandler, userId: string, workflowId: string) {
  return commands.handle(workflowDecider, {
    commandId: newId(),
    userId,
    aggregateId: workflowId,
    command: createHeartbeat(userId, workflowId),
  });
}

/** Creates a MANUAL job of a workflow, queued as the lifecycle reactor does unless `queue` is false. */
export function createJob(
  userId: string,
  workflowId: string,
  jobId: string,
  kind: 'HEARTBEAT' | 'CONTAINER',
  payload: Record<string, unknown>,
  queue = true,
): CreateJob {
  return {
    type: 'CreateJob',
    data: {
      job_id: jobId,
      user_id: userId,
      workflow_id: workflowId,
      scheduled_at: new Date().toISOString(),
      trigger: 'MANUAL',
      kind,
      payload,
    },
    queue,
  };
}
