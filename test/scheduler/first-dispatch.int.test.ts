// A job's first attempt is dispatched by the reaction that creates and queues it, right after its
// commit, instead of when that commit comes back through the scheduler's consumer (behind all the
// backlog of it). Exactly one dispatch message per attempt, whatever is redelivered or crashed
// between the commit and the publish; the dispatch reactor leaves a JobQueued so marked alone and
// still dispatches the ones that are not (older commits, a lifecycle reactor without dispatch).
import { describe, expect, it } from 'vitest';
import type { DispatchMessage } from '../../src/actors/dispatch-message.ts';
import { jobDecider } from '../../src/actors/job-decider.ts';
import { workflowDecider } from '../../src/actors/workflow-decider.ts';
import type { EventEnvelope } from '../../src/events/envelope.ts';
import { streamNames } from '../../src/events/stream-definitions.ts';
import { dispatchSubject, eventSubject } from '../../src/events/subjects.ts';
import { dispatchReactor } from '../../src/reactors/dispatch-reactor.ts';
import { jobLifecycleReactor } from '../../src/reactors/job-lifecycle-reactor.ts';
import { createHeartbeatWorkflow, newId } from '../support/fixtures.ts';
import { useTestEnvironment } from '../support/test-environment.ts';

const env = useTestEnvironment();

/** How many dispatch messages `pool` holds (nothing consumes a pool of its own here), and the last. */
async function dispatched(pool: string): Promise<{ count: number; last?: DispatchMessage }> {
  const subject = dispatchSubject(pool);
  const { jsm } = env.runtime.nats;
  const info = await jsm.streams.info(streamNames.dispatch, { subjects_filter: subject });
  const count = info.state.subjects?.[subject] ?? 0;
  if (count === 0) return { count };
  const last = await jsm.streams.getMessage(streamNames.dispatch, { last_by_subj: subject });
  return { count, last: last!.json<DispatchMessage>() };
}

/** A built HEARTBEAT workflow and a run-now on it: the JobScheduled the lifecycle reactor reacts to. */
async function scheduledJob(): Promise<{
  userId: string;
  jobId: string;
  event: EventEnvelope;
  sequence: number;
}> {
  const userId = newId();
  const workflowId = newId();
  const jobId = newId();
  await createHeartbeatWorkflow(env.runtime.commands, userId, workflowId);
  const runNow = await env.runtime.commands.handle(workflowDecider, {
    commandId: newId(),
    userId,
    aggregateId: workflowId,
    command: { type: 'RunNow', data: { job_id: jobId } },
  });
  return { userId, jobId, event: runNow.events[0]!, sequence: runNow.version };
}

async function jobEvents(userId: string, jobId: string): Promise<EventEnvelope[]> {
  return (await env.runtime.commands.store.read(eventSubject(userId, 'job', jobId))).flatMap((c) => c.events);
}

describe('the first dispatch', () => {
  it('is published by the reaction that queues the job, once across a redelivery', async () => {
    const pool = `first-dispatch-${newId().slice(0, 8)}`;
    const { commands, nats } = env.runtime;
    const lifecycle = jobLifecycleReactor(commands, { nats, pool });
    const { userId, jobId, event, sequence } = await scheduledJob();

    await lifecycle.react(event, sequence);
    const queued = (await jobEvents(userId, jobId)).find((e) => e.type === 'JobQueued');
    expect(queued?.data).toEqual({ attempt: 1, dispatched_by_creator: true });
    const first = await dispatched(pool);
    expect(first.count).toBe(1);
    expect([first.last?.job_id, first.last?.attempt, first.last?.not_before]).toEqual([jobId, 1, null]);
    expect(first.last?.job_snapshot?.value).toBe('QUEUED');

    // The same JobScheduled again (an ack lost): nothing new in the log, no second message.
    await lifecycle.react(event, sequence);
    expect((await jobEvents(userId, jobId)).filter((e) => e.type === 'JobQueued')).toHaveLength(1);
    expect((await dispatched(pool)).count).toBe(1);

    // The dispatch reactor, delivered the marked JobQueued, publishes nothing (not even a duplicate
    // the stream would drop: its publishes are counted).
    let published = 0;
    const js = Object.create(nats.js) as typeof nats.js;
    js.publish = (...args) => {
      published++;
      return nats.js.publish(...args);
    };
    const queuedCommit = (await commands.store.read(eventSubject(userId, 'job', jobId)))[0]!;
    await dispatchReactor({ nats: { ...nats, js }, commands, pool }).react(queued!, queuedCommit.sequence);
    expect(published).toBe(0);
    expect((await dispatched(pool)).count).toBe(1);
  });

  it('is published on the redelivery when the reaction died between the commit and the publish', async () => {
    const pool = `first-dispatch-${newId().slice(0, 8)}`;
    const { commands, nats } = env.runtime;
    const { userId, jobId, event, sequence } = await scheduledJob();
    const workflow = (await commands.load(workflowDecider, userId, event.aggregateId)).state.context;
    // What the reaction appended before it died: the job created and queued, marked for its own publish.
    await commands.handle(jobDecider, {
      commandId: `${event.id}:create-and-queue-job`,
      userId,
      aggregateId: jobId,
      command: {
        type: 'CreateJob',
        queue: true,
        creatorDispatches: true,
        data: {
          job_id: jobId,
          user_id: userId,
          workflow_id: event.aggregateId,
          scheduled_at: (event.data as { scheduled_at: string }).scheduled_at,
          trigger: 'MANUAL',
          kind: 'HEARTBEAT',
          payload: workflow.payload,
          log_retention: true,
        },
      },
    });
    expect((await dispatched(pool)).count).toBe(0);

    await jobLifecycleReactor(commands, { nats, pool }).react(event, sequence);
    const after = await dispatched(pool);
    expect([after.count, after.last?.job_id, after.last?.attempt]).toEqual([1, jobId, 1]);
  });

  it('is left to the dispatch reactor by a lifecycle reactor without dispatch, as before', async () => {
    const pool = `first-dispatch-${newId().slice(0, 8)}`;
    const { commands, nats } = env.runtime;
    const { userId, jobId, event, sequence } = await scheduledJob();

    await jobLifecycleReactor(commands).react(event, sequence);
    const [commit] = await commands.store.read(eventSubject(userId, 'job', jobId));
    const queued = commit!.events.find((e) => e.type === 'JobQueued')!;
    expect(queued.data).toEqual({ attempt: 1 });
    expect((await dispatched(pool)).count).toBe(0);

    await dispatchReactor({ nats, commands, pool }).react(queued, commit!.sequence);
    const after = await dispatched(pool);
    expect([after.count, after.last?.job_id, after.last?.attempt]).toEqual([1, jobId, 1]);
  });
});
