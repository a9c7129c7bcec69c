// The queries that read what the actors know, replayed from the log, for reads that must not lag
// behind it: a job's status and ownership, a workflow's current definition, a user before its row
// exists, and the /events workflow directory. No projection runs here, so the read models are empty
// and every answer comes from the log (or from what the events themselves say).
import { describe, expect, it } from 'vitest';
import { jobDecider } from '../../src/actors/job-decider.ts';
import { userDecider } from '../../src/actors/user-decider.ts';
import { workflowDecider } from '../../src/actors/workflow-decider.ts';
import { NotFoundError } from '../../src/errors.ts';
import type { EventEnvelope } from '../../src/events/envelope.ts';
import { jobStatusFromLog, ownedJobFromLog } from '../../src/queries/jobs.ts';
import { currentUser, userFromState } from '../../src/queries/users.ts';
import { WorkflowDirectory } from '../../src/queries/workflow-directory.ts';
import { workflowFromLog } from '../../src/queries/workflows.ts';
import { createHeartbeat, createJob, newId } from '../support/fixtures.ts';
import { useTestEnvironment } from '../support/test-environment.ts';

const env = useTestEnvironment();

async function workflowWithJob(userId: string) {
  const workflowId = newId();
  const jobId = newId();
  await env.runtime.commands.handle(workflowDecider, {
    commandId: newId(),
    userId,
    aggregateId: workflowId,
    command: createHeartbeat(userId, workflowId, { name: 'from the log' }),
  });
  await env.runtime.commands.handle(jobDecider, {
    commandId: newId(),
    userId,
    aggregateId: jobId,
    command: createJob(userId, workflowId, jobId, 'HEARTBEAT', {}, false),
  });
  return { workflowId, jobId };
}

describe('queries of the log', () => {
  it('a job’s status and ownership, and a workflow’s definition', async () => {
    const userId = newId();
    const { workflowId, jobId } = await workflowWithJob(userId);
    expect(await ownedJobFromLog(env.runtime.commands, userId, workflowId, jobId)).toEqual({
      status: 'PENDING',
      archived: false,
    });
    expect(await jobStatusFromLog(env.runtime.commands, userId, jobId)).toBe('PENDING');
    await expect(ownedJobFromLog(env.runtime.commands, userId, newId(), jobId)).rejects.toThrow(
      NotFoundError,
    );
    await expect(ownedJobFromLog(env.runtime.commands, newId(), workflowId, jobId)).rejects.toThrow(
      NotFoundError,
    );
    expect(await workflowFromLog(env.runtime.commands, userId, workflowId)).toMatchObject({
      name: 'from the log',
      kind: 'HEARTBEAT',
    });
    await expect(workflowFromLog(env.runtime.commands, newId(), workflowId)).rejects.toThrow(NotFoundError);
  });

  it('a user whose read-model row does not exist yet, with the credentials’ creation time', async () => {
    const userId = newId();
    await expect(currentUser(env.runtime.db, env.runtime.commands, userId)).rejects.toThrow(NotFoundError);
    const result = await env.runtime.commands.handle(userDecider, {
      commandId: newId(),
      userId,
      aggregateId: userId,
      command: { type: 'RegisterUser', data: { user_id: userId, email: 'new@example.com' } },
    });
    // Registered, but no credentials row: not an account.
    await expect(userFromState(env.runtime.db, userId, result.state)).rejects.toThrow(NotFoundError);
    await env.runtime.db
      .insertInto('user_credentials')
      .values({ user_id: userId, email: 'new@example.com', password_hash: 'x' })
      .execute();
    const user = await currentUser(env.runtime.db, env.runtime.commands, userId);
    expect(user).toMatchObject({ id: userId, email: 'new@example.com', notification_preference: 'ALERTS' });
    expect(user.created_at).toBeInstanceOf(Date);
  });

  it('the workflow directory: names from the events, else from the actors', async () => {
    const userId = newId();
    const { workflowId, jobId } = await workflowWithJob(userId);
    const directory = new WorkflowDirectory(env.runtime.db, env.runtime.commands, userId);
    const jobEvent = { aggregate: 'job', aggregateId: jobId, type: 'JobQueued', data: {} } as EventEnvelope;
    // Neither the events seen nor the (empty) read model know it: the actors do.
    expect(await directory.workflowOf(jobEvent)).toEqual({
      id: workflowId,
      name: 'from the log',
      kind: 'HEARTBEAT',
    });
    directory.observe({
      aggregate: 'workflow',
      aggregateId: workflowId,
      type: 'WorkflowUpdated',
      data: { changes: { name: 'renamed' } },
    } as unknown as EventEnvelope);
    expect((await directory.workflowOf(jobEvent))?.name).toBe('renamed');
    // Another user's directory does not see this user's workflow.
    const other = new WorkflowDirectory(env.runtime.db, env.runtime.commands, newId());
    expect(await other.workflowOf(jobEvent)).toBeUndefined();
  });
});
