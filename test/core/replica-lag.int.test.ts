// An actor created through one process and commanded at once through another, over a replicated event
// log (a real 3-node cluster, CV_EVENTS at R3). A direct get is answered by the replica nearest the
// asking client, and a follower may not have stored yet a commit the leader acknowledged: the second
// process then read a workflow created a moment ago as new, and a run-now was refused
// workflow_not_found (seen in a CI trial of test/core/phantom-duplicate.int.test.ts). A refusal, and
// "no such actor", are now final only on the state the stream's leader has. And its audit history,
// read through the other process, holds what the leader has.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CommandHandler } from '../../src/actors/command-handler.ts';
import { workflowDecider } from '../../src/actors/workflow-decider.ts';
import { EventStore } from '../../src/events/event-store.ts';
import { aggregateHistory } from '../../src/events/history.ts';
import { streamDefinitions, streamNames } from '../../src/events/stream-definitions.ts';
import { connectNats, type Nats } from '../../src/infra/nats-connection.ts';
import { reconcileStreams } from '../../src/migrate/jetstream-topology.ts';
import { createHeartbeat, newId } from '../support/fixtures.ts';
import { startNatsCluster, type TestNatsCluster, untilClusterAnswers } from '../support/nats-cluster.ts';

let cluster: TestNatsCluster;
let atLeader: Nats;
let atFollowers: Nats[];

beforeAll(async () => {
  cluster = await startNatsCluster(3);
  const setup = await untilClusterAnswers(() => connectNats(cluster.url, 'test'));
  await untilClusterAnswers(() =>
    reconcileStreams(setup.jsm, streamDefinitions({ logBufferMaxAgeHours: 1, replicas: 3 })),
  );
  const leader = await cluster.leaderOf(setup.jsm, streamNames.events);
  await setup.nc.close();
  const node = (name: string | undefined) => cluster.nodes.find((n) => n.name === name)!;
  // Each client talks to one node only: its direct gets are answered by that node's replica.
  atLeader = await connectNats(node(leader).url, 'test');
  atFollowers = await Promise.all(
    cluster.nodes.filter((n) => n.name !== leader).map((n) => connectNats(n.url, 'test')),
  );
}, 120_000);

afterAll(async () => {
  await Promise.all([atLeader, ...(atFollowers ?? [])].map((n) => n?.nc.close()));
  await cluster?.dispose();
});

describe('an actor created through one process and used at once through another', () => {
  it('is found by the other process, and its commands are decided on it', async () => {
    const userId = newId();
    const creator = new CommandHandler(new EventStore(atLeader.js, atLeader.jsm));
    const refused: string[] = [];
    const unseen: string[] = [];
    const rounds = 1500;
    for (let round = 0; round < rounds; round++) {
      const workflowId = newId();
      const follower = atFollowers[round % atFollowers.length]!;
      // A process that has never seen this workflow (no cached snapshot), on a follower's node.
      const other = new CommandHandler(new EventStore(follower.js, follower.jsm));
      await creator.handle(workflowDecider, {
        commandId: newId(),
        userId,
        aggregateId: workflowId,
        command: createHeartbeat(userId, workflowId),
      });
      const [runNow, read] = await Promise.allSettled([
        other.handle(workflowDecider, {
          commandId: newId(),
          userId,
          aggregateId: workflowId,
          command: { type: 'RunNow', data: { job_id: newId() } },
        }),
        new CommandHandler(new EventStore(follower.js, follower.jsm)).load(
          workflowDecider,
          userId,
          workflowId,
        ),
      ]);
      if (runNow.status === 'rejected') refused.push(String(runNow.reason));
      if (read.status === 'rejected') unseen.push(String(read.reason));
      else if (!read.value.exists) unseen.push(`${workflowId} read as not existing`);
    }
    expect(refused).toEqual([]);
    expect(unseen).toEqual([]);
  }, 120_000);

  it('has an audit history, read through the other process, that holds the commit made a moment ago', async () => {
    const userId = newId();
    const creator = new CommandHandler(new EventStore(atLeader.js, atLeader.jsm));
    const short: string[] = [];
    for (let round = 0; round < 1500; round++) {
      const workflowId = newId();
      const follower = atFollowers[round % atFollowers.length]!;
      await creator.handle(workflowDecider, {
        commandId: newId(),
        userId,
        aggregateId: workflowId,
        command: createHeartbeat(userId, workflowId),
      });
      const page = await aggregateHistory(
        new EventStore(follower.js, follower.jsm),
        userId,
        'workflow',
        workflowId,
      );
      const types = page.entries.map((e) => e.event.type);
      if (!types.includes('WorkflowCreated')) short.push(`${workflowId}: ${JSON.stringify(types)}`);
    }
    expect(short).toEqual([]);
  }, 120_000);
});
