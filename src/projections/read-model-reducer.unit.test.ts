import { describe, expect, it } from 'vitest';
import { jobCreated, queued } from '../../test/support/job-fixtures.ts';
import { containerCreated } from '../../test/support/workflow-fixtures.ts';
import type { EventEnvelope } from '../events/envelope.ts';
import type { JobEvent } from '../events/job-events.ts';
import type { WorkflowEvent } from '../events/workflow-events.ts';
import { applyEvent, emptyWorkingSet } from './read-model-reducer.ts';

let seq = 0;
function envelope(event: WorkflowEvent): EventEnvelope {
  seq += 1;
  return {
    ...event,
    id: `e${seq}`,
    version: 1,
    aggregate: 'workflow',
    aggregateId: 'wf1',
    userId: 'u1',
    occurredAt: '2026-03-01T12:00:00.000Z',
    correlationId: 'c1',
    causationId: 'c1',
  } as EventEnvelope;
}

function workflowAfter(events: readonly WorkflowEvent[]) {
  const ws = emptyWorkingSet();
  for (const [i, e] of events.entries()) applyEvent(ws, envelope(e), i + 1);
  return ws.workflows.get('wf1');
}

describe("read model: a workflow's log_retention", () => {
  const { log_retention: _, ...withoutRetention } = containerCreated.data;

  it('is true for a WorkflowCreated from before the field existed', () => {
    expect(workflowAfter([{ ...containerCreated, data: withoutRetention }])?.log_retention).toBe(true);
  });

  it('follows the event, then only the updates that name it', () => {
    const created = { ...containerCreated, data: { ...containerCreated.data, log_retention: false } };
    expect(workflowAfter([created])?.log_retention).toBe(false);
    const renamed: WorkflowEvent = {
      type: 'WorkflowUpdated',
      data: { changes: { name: 'renamed' }, rebuild: false },
    };
    expect(workflowAfter([created, renamed])?.log_retention).toBe(false);
    const kept: WorkflowEvent = {
      type: 'WorkflowUpdated',
      data: { changes: { log_retention: true }, rebuild: false },
    };
    expect(workflowAfter([created, renamed, kept])?.log_retention).toBe(true);
  });
});

describe('read model: a job created after its workflow was deleted', () => {
  const asJob = (event: JobEvent): EventEnvelope =>
    ({ ...envelope(event as never), aggregate: 'job', aggregateId: 'j1' }) as EventEnvelope;

  it('writes no job row and brings back no stats of the deleted workflow', () => {
    const ws = emptyWorkingSet();
    applyEvent(ws, envelope(containerCreated), 1);
    applyEvent(ws, envelope({ type: 'WorkflowTerminated', data: {} } as WorkflowEvent), 2);
    applyEvent(ws, envelope({ type: 'WorkflowDeleted', data: {} } as WorkflowEvent), 3);
    expect(ws.deletedWorkflows.has('wf1')).toBe(true);
    applyEvent(ws, asJob(jobCreated), 4);
    applyEvent(ws, asJob(queued(1)), 5);
    expect(ws.jobs.size).toBe(0);
    expect(ws.workflowStats.has('wf1')).toBe(false);
  });

  it('still writes the job of a live workflow', () => {
    const ws = emptyWorkingSet();
    applyEvent(ws, envelope(containerCreated), 1);
    applyEvent(ws, asJob(jobCreated), 2);
    expect(ws.jobs.get('j1')).toMatchObject({ workflow_id: 'wf1', status: 'PENDING' });
    expect(ws.workflowStats.get('wf1')?.jobs_total).toBe(1);
  });
});
