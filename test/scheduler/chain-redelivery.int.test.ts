// A chained run is started once even when the parent's end is delivered to the chain reactor again
// long after it was first handled: past the log's 2-minute duplicate window (a new command id would
// append) and after the target has recorded more ends than it remembers (100), so that the target
// itself no longer knows the chained job. Real JetStream; the reactor is called as its consumer would.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CommandHandler } from '../../src/actors/command-handler.ts';
import { jobDecider } from '../../src/actors/job-decider.ts';
import { workflowDecider } from '../../src/actors/workflow-decider.ts';
import { RECORDED_OUTCOMES_KEPT } from '../../src/actors/workflow-machine.ts';
import type { EventEnvelope } from '../../src/events/envelope.ts';
import { EventStore } from '../../src/events/event-store.ts';
import { msToNanos, streamDefinitions, streamNames } from '../../src/events/stream-definitions.ts';
import { eventSubject } from '../../src/events/subjects.ts';
import type { WorkflowCommand } from '../../src/events/workflow-events.ts';
import { connectNats, type Nats } from '../../src/infra/nats-connection.ts';
import { reconcileStreams } from '../../src/migrate/jetstream-topology.ts';
import { chainReactor } from '../../src/reactors/chain-reactor.ts';
import { createHeartbeat, createJob, newId } from '../support/fixtures.ts';
import { startNatsServer, type TestNatsServer } from '../support/nats-server.ts';

const DUPLICATE_WINDOW_MS = 1_000;

let server: TestNatsServer;
let nats: Nats;
let handler: CommandHandler;

beforeAll(async () => {
  server = await startNatsServer();
  nats = await connectNats(server.url, 'test');
  await reconcileStreams(nats.jsm, streamDefinitions({ logBufferMaxAgeHours: 1 }));
  // The log's duplicate window (2 minutes) shortened to 1 s, to stand for a redelivery after it.
  await nats.jsm.streams.update(streamNames.events, { duplicate_window: msToNanos(DUPLICATE_WINDOW_MS) });
  handler = new CommandHandler(new EventStore(nats.js, nats.jsm));
});

afterAll(async () => {
  await nats?.nc.close();
  await server?.dispose();
});

describe('chain reactor, a late redelivery', () => {
  it('does not run the chained workflow again once the target has forgotten the job it ran', async () => {
    const [userId, parentId, targetId] = [newId(), newId(), newId()];
    const on = (aggregateId: string, command: WorkflowCommand) =>
      handler.handle(workflowDecider, { commandId: newId(), userId, aggregateId, command });
    await on(targetId, createHeartbeat(userId, targetId));
    await on(parentId, createHeartbeat(userId, parentId, { chain: { on_success: [targetId] } }));
    const parentJob = newId();
    await on(parentId, { type: 'RunNow', data: { job_id: parentJob } });
    const ended = await on(parentId, {
      type: 'RecordJobOutcome',
      data: { job_id: parentJob, outcome: 'COMPLETED' },
    });
    const endEvent = ended.events.find((e) => e.type === 'JobOutcomeRecorded') as EventEnvelope;
    expect(endEvent).toBeDefined();

    const reactor = chainReactor(handler);
    await reactor.react(endEvent, ended.version);
    const chained = scheduledJobs(await history(userId, targetId));
    expect(chained).toHaveLength(1);
    const chainedJob = chained[0]!;
    // The lifecycle reactor makes the job actor; then it ends, and 100 more of the target's jobs end.
    await handler.handle(jobDecider, {
      commandId: newId(),
      userId,
      aggregateId: chainedJob,
      command: createJob(userId, targetId, chainedJob, 'HEARTBEAT', { endpoint: 'http://127.0.0.1:9/' }),
    });
    await on(targetId, { type: 'RecordJobOutcome', data: { job_id: chainedJob, outcome: 'COMPLETED' } });
    for (let i = 0; i < RECORDED_OUTCOMES_KEPT; i++) {
      const job_id = newId();
      await on(targetId, { type: 'RunNow', data: { job_id } });
      await on(targetId, { type: 'RecordJobOutcome', data: { job_id, outcome: 'COMPLETED' } });
    }
    const target = await handler.load(workflowDecider, userId, targetId);
    expect(target.state.context.recorded_job_ids).not.toContain(chainedJob);

    // The same end delivered again, its command id now past the duplicate window.
    await new Promise((r) => setTimeout(r, DUPLICATE_WINDOW_MS * 1.5));
    const before = scheduledJobs(await history(userId, targetId)).length;
    await reactor.react(endEvent, ended.version);
    const after = scheduledJobs(await history(userId, targetId));
    expect(after).toHaveLength(before);
    expect(after.filter((id) => id === chainedJob)).toHaveLength(1);
  });
});

async function history(userId: string, workflowId: string) {
  const commits = await handler.store.read(eventSubject(userId, 'workflow', workflowId));
  return commits.flatMap((c) => c.events);
}

function scheduledJobs(events: readonly EventEnvelope[]): string[] {
  return events
    .filter((e) => e.type === 'JobScheduled' && (e.data as { trigger?: string }).trigger === 'CHAIN')
    .map((e) => (e.data as { job_id: string }).job_id);
}
