// Commands racing on one actor over a replicated event log (a real 3-node cluster, CV_EVENTS at R3):
// every command that is acknowledged is in the log. nats-server 2.10 keeps the message id of a commit
// refused for a wrong last sequence in its duplicate window with nothing stored behind it; a command
// appended again under the same id after its reload is then answered "duplicate" at sequence 0. The
// command handler took that for "stored already" and acknowledged a command that was lost (found by
// the rolling restart on a cluster: a run-now answered 201 whose job never existed).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CommandHandler } from '../../src/actors/command-handler.ts';
import { workflowDecider } from '../../src/actors/workflow-decider.ts';
import { ConcurrencyConflict, decodeCommit, EventStore } from '../../src/events/event-store.ts';
import { streamDefinitions, streamNames } from '../../src/events/stream-definitions.ts';
import { eventSubject } from '../../src/events/subjects.ts';
import { connectNats, type Nats } from '../../src/infra/nats-connection.ts';
import { reconcileStreams } from '../../src/migrate/jetstream-topology.ts';
import { createHeartbeat, newId } from '../support/fixtures.ts';
import { startNatsCluster, type TestNatsCluster, untilClusterAnswers } from '../support/nats-cluster.ts';

let cluster: TestNatsCluster;
let nats: Nats;
let store: CountingStore;

beforeAll(async () => {
  cluster = await startNatsCluster(3);
  nats = await untilClusterAnswers(() => connectNats(cluster.url, 'test'));
  await untilClusterAnswers(() =>
    reconcileStreams(nats.jsm, streamDefinitions({ logBufferMaxAgeHours: 1, replicas: 3 })),
  );
  store = new CountingStore(nats.js, nats.jsm);
}, 120_000);

/** The store as it is, counting the appends refused for a wrong last sequence and the duplicates. */
class CountingStore extends EventStore {
  conflicts = 0;
  duplicates = 0;
  override async append(...args: Parameters<EventStore['append']>) {
    try {
      const ack = await super.append(...args);
      if (ack.duplicate) this.duplicates++;
      return ack;
    } catch (err) {
      if (err instanceof ConcurrencyConflict) this.conflicts++;
      throw err;
    }
  }
}

afterAll(async () => {
  await nats?.nc.close();
  await cluster?.dispose();
});

/** A subject's events as the stream's leader has them (a consumer; a direct get may be served by a lagging replica). */
async function eventsOf(subject: string) {
  const consumer = await nats.js.consumers.get(streamNames.events, { filter_subjects: subject });
  const events: { type: string; data: unknown }[] = [];
  if ((await consumer.info()).num_pending === 0) return events;
  const messages = await consumer.consume();
  for await (const m of messages) {
    events.push(...decodeCommit(m.data));
    if (m.info.pending === 0) break;
  }
  messages.stop();
  return events;
}

describe('commands racing on one actor over an R3 event log', () => {
  it('stores every command it acknowledges, also when the loser of a race appends again', async () => {
    expect((await nats.jsm.streams.info(streamNames.events)).config.num_replicas).toBe(3);
    const userId = newId();
    const lost: string[] = [];
    // What a round that seemed to lose a command looked like: seen once in CI (2 ids missing, 20
    // conflicts, 19 phantom duplicates over the 20 rounds), not reproduced in 4 runs since.
    const rounds: Record<string, unknown>[] = [];
    for (let round = 0; round < 20; round++) {
      const before = { conflicts: store.conflicts, duplicates: store.duplicates };
      const workflowId = newId();
      // Two processes, each with the workflow in its cache at the same version: their next commands
      // are decided at once on that version, and one of the two appends is refused.
      const processes = [new CommandHandler(store), new CommandHandler(store)];
      await processes[0]!.handle(workflowDecider, {
        commandId: newId(),
        userId,
        aggregateId: workflowId,
        command: createHeartbeat(userId, workflowId),
      });
      // The second loads it too (a load asks the stream's leader where a replica has not stored the
      // create yet: test/core/replica-lag.int.test.ts).
      expect((await processes[1]!.load(workflowDecider, userId, workflowId)).version).toBeGreaterThan(0);
      const jobIds = [newId(), newId()];
      await Promise.all(
        processes.map((p, i) =>
          p.handle(workflowDecider, {
            commandId: newId(),
            userId,
            aggregateId: workflowId,
            command: { type: 'RunNow', data: { job_id: jobIds[i]! } },
          }),
        ),
      );
      const subject = eventSubject(userId, 'workflow', workflowId);
      const scheduledIn = (events: readonly { type: string; data: unknown }[]) =>
        events.filter((e) => e.type === 'JobScheduled').map((e) => (e.data as { job_id: string }).job_id);
      const firstRead = await eventsOf(subject);
      const missing = jobIds.filter((id) => !scheduledIn(firstRead).includes(id));
      if (missing.length === 0) continue;
      // Read again a little later, to tell a command missing from the log from a read that came short.
      await new Promise((r) => setTimeout(r, 1000));
      const secondRead = await eventsOf(subject);
      lost.push(...missing.filter((id) => !scheduledIn(secondRead).includes(id)));
      rounds.push({
        round,
        missing,
        conflicts: store.conflicts - before.conflicts,
        phantom_duplicates: store.duplicates - before.duplicates,
        first_read: firstRead.map((e) => e.type),
        second_read: secondRead.map((e) => e.type),
      });
    }
    console.log(
      JSON.stringify({
        conflicts: store.conflicts,
        phantom_duplicates: store.duplicates,
        rounds_short: rounds,
      }),
    );
    // Each round ends in a conflict, and its loser appends again: nothing acknowledged is missing.
    expect(store.conflicts).toBeGreaterThan(0);
    expect(lost, JSON.stringify(rounds)).toEqual([]);
  }, 120_000);
});
