// Commands and ids for tests of the core.
import { randomUUID } from 'node:crypto';
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
