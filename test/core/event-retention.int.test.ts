// Retention of the event log against real NATS, PostgreSQL and ClickHouse: finished jobs' commits
// move to the archive after CV_EVENTS_RETENTION_DAYS (an injected clock says when), their history
// and state still answer from there, a rebuild from archive + log gives the same read models, a
// sweep waits for every reader of the log, and a sweep racing a rebuild changes no read model.
import { AckPolicy } from '@nats-io/jetstream';
import { describe, expect, it } from 'vitest';
import { CommandHandler } from '../../src/actors/command-handler.ts';
import { jobDecider } from '../../src/actors/job-decider.ts';
import { workflowDecider } from '../../src/actors/workflow-decider.ts';
import { EventStore } from '../../src/events/event-store.ts';
import { type ArchiveReader, aggregateHistory, type HistoryEntry } from '../../src/events/history.ts';
import { streamNames } from '../../src/events/stream-definitions.ts';
import { eventSubject } from '../../src/events/subjects.ts';
import { countJobEvents } from '../../src/projections/clickhouse-job-events.ts';
import { postgresReadModels } from '../../src/projections/postgres-read-models.ts';
import { type ProjectionDeps, rebuildProjection } from '../../src/projections/projection-batch.ts';
import { ProjectionRunner } from '../../src/projections/projection-runner.ts';
import { allProjections } from '../../src/projections/registry.ts';
import { compactWorkflows, sweepFinishedJobs } from '../../src/projections/retention-sweep.ts';
import { ownedJobFromLog } from '../../src/queries/jobs.ts';
import { createLogger } from '../../src/telemetry/logger.ts';
import { generateEventLog } from '../support/event-log-generator.ts';
import { dumpReadModels } from '../support/read-model-dump.ts';
import { useTestEnvironment } from '../support/test-environment.ts';

const env = useTestEnvironment();
const DAY_MS = 86_400_000;
const log = createLogger('test', 'error');

function parts() {
  const archive = env.runtime.archive;
  const reader = archive;
  const deps = { nats: env.runtime.nats, db: env.runtime.db, log, archive };
  const sweepDeps = { ...deps, store: env.runtime.events };
  return { archive, reader, deps, sweepDeps };
}

async function rebuildAll(deps: ProjectionDeps, batchSize?: number) {
  for (const p of allProjections(env.runtime)) await rebuildProjection(deps, p, batchSize);
}

async function streamMessages(): Promise<number> {
  return (await env.runtime.nats.jsm.streams.info(streamNames.events)).state.messages;
}

/** Every page of an actor's history (a job's unless told), `limit` commits a page. */
async function fullHistory(
  userId: string,
  id: string,
  reader?: ArchiveReader,
  limit = 100,
  aggregate: 'job' | 'workflow' = 'job',
) {
  const entries: HistoryEntry[] = [];
  let after = 0;
  for (;;) {
    const page = await aggregateHistory(env.runtime.events, userId, aggregate, id, { after, limit }, reader);
    entries.push(...page.entries);
    if (page.next === null) return entries;
    after = page.next;
  }
}

describe('event log retention', () => {
  it('moves finished jobs to the archive once they are old enough, and nothing is lost to a reader', async () => {
    const { reader, deps, sweepDeps } = parts();
    await generateEventLog(env.runtime.commands, { users: 2, workflowsPerUser: 3, jobsPerWorkflow: 6 });
    await rebuildAll(deps);
    const before = await dumpReadModels(env.runtime.db);
    const analytics = await countJobEvents(env.runtime.clickhouse, env.config.CLICKHOUSE_DATABASE);
    const jobs = before.jobs as { id: string; user_id: string; workflow_id: string; status: string }[];
    expect(jobs).toHaveLength(36);
    const histories = new Map<string, HistoryEntry[]>();
    for (const j of jobs) histories.set(j.id, await fullHistory(j.user_id, j.id));
    const messagesBefore = await streamMessages();

    // Not old enough yet: nothing moves.
    const early = await sweepFinishedJobs(sweepDeps, {
      now: new Date(Date.now() + 29 * DAY_MS),
      retentionDays: 30,
    });
    expect(early.subjects).toBe(0);
    expect(await streamMessages()).toBe(messagesBefore);

    const now = new Date(Date.now() + 31 * DAY_MS);
    const swept = await sweepFinishedJobs(sweepDeps, { now, retentionDays: 30, batchSize: 10 });
    expect(swept).toMatchObject({ subjects: 36, busy: false, heldBack: false });
    const jobCommits = [...histories.values()].reduce(
      (n, h) => n + new Set(h.map((e) => e.sequence)).size,
      0,
    );
    expect(swept.commits).toBe(jobCommits);
    expect(await streamMessages()).toBe(messagesBefore - jobCommits);
    for (const j of jobs) {
      expect(await env.runtime.events.lastSequence(eventSubject(j.user_id, 'job', j.id))).toBe(0);
      // The history answers from the archive, the same entries under the same sequences, in pages too.
      expect(await fullHistory(j.user_id, j.id, reader)).toEqual(histories.get(j.id));
      expect(await fullHistory(j.user_id, j.id, reader, 2)).toEqual(histories.get(j.id));
      const owned = await ownedJobFromLog(env.runtime.commands, j.user_id, j.workflow_id, j.id, reader);
      expect(owned).toEqual({ status: expect.any(String), archived: true });
      await expect(
        ownedJobFromLog(env.runtime.commands, j.user_id, 'another-workflow', j.id, reader),
      ).rejects.toThrow('No such job');
    }
    // Without the archive they would be gone: the test can tell the two apart.
    const [first] = jobs;
    expect(await fullHistory(first!.user_id, first!.id)).toEqual([]);

    // A second sweep finds nothing more; a rebuild from archive + log gives the same read models.
    expect((await sweepFinishedJobs(sweepDeps, { now, retentionDays: 30 })).subjects).toBe(0);
    await rebuildAll(deps);
    expect(await dumpReadModels(env.runtime.db)).toEqual(before);
    expect(await countJobEvents(env.runtime.clickhouse, env.config.CLICKHOUSE_DATABASE)).toEqual(analytics);
    // A rebuild from the log alone loses the archived jobs' rows.
    const { archive: _, ...logOnly } = deps;
    await rebuildAll(logOnly);
    expect((await dumpReadModels(env.runtime.db)).jobs).not.toEqual(before.jobs);
    await rebuildAll(deps);
    expect(await dumpReadModels(env.runtime.db)).toEqual(before);

    // A sweep killed after purging and before recording: its batch's records roll back with its
    // transaction (the latest finished), and the next sweep records what the archive holds.
    const lastBatch = await env.runtime.db
      .selectFrom('archived_subjects')
      .select('subject')
      .orderBy('finished_at', 'desc')
      .orderBy('aggregate_id', 'desc')
      .limit(6)
      .execute();
    await env.runtime.db
      .deleteFrom('archived_subjects')
      .where(
        'subject',
        'in',
        lastBatch.map((r) => r.subject),
      )
      .execute();
    const again = await sweepFinishedJobs(sweepDeps, { now, retentionDays: 30 });
    expect(again).toMatchObject({ subjects: 6, commits: 0 });
    for (const j of jobs) expect(await fullHistory(j.user_id, j.id, reader)).toEqual(histories.get(j.id));
  });

  it('a rebuild applies a commit found both in the archive and the log once; a new projection reads the archive', async () => {
    const { archive, deps, sweepDeps } = parts();
    const generated = await generateEventLog(env.runtime.commands, {
      users: 1,
      workflowsPerUser: 2,
      jobsPerWorkflow: 5,
    });
    await rebuildAll(deps);
    const now = new Date(Date.now() + 31 * DAY_MS);
    await sweepFinishedJobs(sweepDeps, { now, retentionDays: 30 });
    const before = await dumpReadModels(env.runtime.db);
    const analytics = await countJobEvents(env.runtime.clickhouse, env.config.CLICKHOUSE_DATABASE);
    // A sweep stopped between archiving and purging: a workflow's commits in both places.
    const [userId] = generated.userIds;
    const subject = eventSubject(userId!, 'workflow', generated.workflowIds[0]!);
    const inLog = await env.runtime.events.read(subject);
    await archive.write(
      inLog.map((c) => ({ sequence: c.sequence, subject, commit: JSON.stringify(c.events) })),
      now,
    );
    await rebuildAll(deps);
    expect(await dumpReadModels(env.runtime.db)).toEqual(before);
    expect(await countJobEvents(env.runtime.clickhouse, env.config.CLICKHOUSE_DATABASE)).toEqual(analytics);

    // The read models as a projection new to this log: no rows, no checkpoint. Started live, it is
    // built from the archive and the log, not from the log alone.
    await env.runtime.db.transaction().execute((tx) => postgresReadModels.reset(tx));
    await env.runtime.db
      .deleteFrom('projection_checkpoints')
      .where('projection', '=', postgresReadModels.name)
      .execute();
    const runner = new ProjectionRunner(deps, [postgresReadModels]);
    await runner.start();
    await runner.waitFor((await env.runtime.nats.jsm.streams.info(streamNames.events)).state.last_seq);
    await runner.stop();
    expect(await dumpReadModels(env.runtime.db)).toEqual(before);
  });

  it('a load or a history read that a purge overtakes completes from the archive', async () => {
    const { reader, sweepDeps, deps } = parts();
    const generated = await generateEventLog(env.runtime.commands, {
      users: 1,
      workflowsPerUser: 1,
      jobsPerWorkflow: 3,
    });
    await rebuildAll(deps);
    const [userId] = generated.userIds;
    const jobs = (await dumpReadModels(env.runtime.db)).jobs as {
      id: string;
      user_id: string;
      status: string;
    }[];
    const job = jobs.find((j) => j.user_id === userId)!;
    let target = eventSubject(userId!, 'job', job.id);
    const expected = await env.runtime.commands.load(jobDecider, userId!, job.id);
    // A store whose next read of `target` is overtaken by the sweep: the subject's last sequence was
    // asked before, its commits are purged before they are read.
    let overtaken = false;
    class OvertakenStore extends EventStore {
      override async read(s: string, from?: number, until?: number, limit?: number) {
        if (s === target && !overtaken) {
          overtaken = true;
          await sweepFinishedJobs(sweepDeps, { now: new Date(Date.now() + 31 * DAY_MS), retentionDays: 30 });
        }
        return super.read(s, from, until, limit);
      }
    }
    const store = new OvertakenStore(env.runtime.nats.js, env.runtime.nats.jsm);
    const loaded = await new CommandHandler(store, { archive: reader }).load(jobDecider, userId!, job.id);
    expect(overtaken).toBe(true);
    expect(await env.runtime.events.lastSequence(target)).toBe(0);
    expect(loaded.state.value).toEqual(expected.state.value);
    expect(loaded.version).toBe(expected.version);

    // The same for a history page, on jobs written after that sweep.
    const more = await generateEventLog(env.runtime.commands, {
      users: 1,
      workflowsPerUser: 1,
      jobsPerWorkflow: 2,
    });
    await rebuildAll(deps);
    const [otherUser] = more.userIds;
    const other = ((await dumpReadModels(env.runtime.db)).jobs as { id: string; user_id: string }[]).find(
      (j) => j.user_id === otherUser,
    )!;
    const otherHistory = await aggregateHistory(env.runtime.events, otherUser!, 'job', other.id);
    expect(otherHistory.entries.length).toBeGreaterThan(0);
    target = eventSubject(otherUser!, 'job', other.id);
    overtaken = false;
    const page = await aggregateHistory(store, otherUser!, 'job', other.id, {}, reader);
    expect(overtaken).toBe(true);
    expect(page.entries).toEqual(otherHistory.entries);
    expect(page.next).toBeNull();
  });

  it('waits for a reader of the log that has yet to see a finished job, then moves it', async () => {
    const { sweepDeps, deps } = parts();
    await generateEventLog(env.runtime.commands, { users: 1, workflowsPerUser: 1, jobsPerWorkflow: 3 });
    await rebuildAll(deps);
    // A durable consumer (an integrator's, a reactor's) that has not read anything yet.
    await env.runtime.nats.jsm.consumers.add(streamNames.events, {
      durable_name: 'slow-reader',
      ack_policy: AckPolicy.Explicit,
    });
    const now = new Date(Date.now() + 31 * DAY_MS);
    const held = await sweepFinishedJobs(sweepDeps, { now, retentionDays: 30 });
    expect(held).toMatchObject({ subjects: 0, heldBack: true });
    await env.runtime.nats.jsm.consumers.delete(streamNames.events, 'slow-reader');
    const moved = await sweepFinishedJobs(sweepDeps, { now, retentionDays: 30 });
    expect(moved).toMatchObject({ subjects: 3, heldBack: false });
  });

  it("moves a workflow's old commits behind its snapshot to the archive; every load and read still sees them", async () => {
    const { reader, deps, sweepDeps } = parts();
    const snapshots = env.runtime.snapshots;
    const generated = await generateEventLog(env.runtime.commands, {
      users: 1,
      workflowsPerUser: 2,
      jobsPerWorkflow: 12,
    });
    await rebuildAll(deps);
    const [userId] = generated.userIds;
    const workflows = generated.workflowIds;
    // The state each workflow has, its history, and its snapshot (the generator's handler writes one
    // every 10 commits it appends).
    const fullWorkflowHistory = (id: string, archive?: ArchiveReader) =>
      fullHistory(userId!, id, archive, 7, 'workflow');
    const before = new Map<string, { history: HistoryEntry[]; state: unknown }>();
    for (const id of workflows) {
      const loaded = await new CommandHandler(env.runtime.events).load(workflowDecider, userId!, id);
      before.set(id, { history: await fullWorkflowHistory(id), state: loaded.state.context });
      const snapshot = await snapshots.get(eventSubject(userId!, 'workflow', id));
      expect(snapshot?.version).toBeGreaterThan(0);
    }
    const now = new Date(Date.now() + 31 * DAY_MS);
    await sweepFinishedJobs(sweepDeps, { now, retentionDays: 30 });
    const compacted = await compactWorkflows({ ...sweepDeps, snapshots }, { now, pageSize: 1 });
    // Ours, and the workflows of the tests before (their jobs were archived above too).
    expect(compacted.subjects).toBeGreaterThanOrEqual(2);
    expect(compacted.commits).toBeGreaterThan(10);
    // Nothing more to move until a newer snapshot.
    expect((await compactWorkflows({ ...sweepDeps, snapshots }, { now })).commits).toBe(0);

    for (const id of workflows) {
      const subject = eventSubject(userId!, 'workflow', id);
      const snapshot = await snapshots.get(subject);
      const [firstKept] = await env.runtime.events.read(subject, 1, undefined, 1);
      // Older commits left the log; the snapshot's own commit (or a later one) is the oldest it keeps:
      // nothing newer than the last archived job's end moves.
      expect(firstKept!.sequence).toBeGreaterThan(before.get(id)!.history[0]!.sequence);
      expect(firstKept!.sequence).toBeLessThanOrEqual(snapshot!.version);
      expect(await fullWorkflowHistory(id, reader)).toEqual(before.get(id)!.history);
      // A cold load from the snapshot, one from the archive and the log (new code cannot use the
      // snapshot), the same state; without the archive a load refuses rather than lose commits.
      const fromSnapshot = await new CommandHandler(env.runtime.events, { snapshots }).load(
        workflowDecider,
        userId!,
        id,
      );
      expect(fromSnapshot.state.context).toEqual(before.get(id)!.state);
      const fromArchive = await new CommandHandler(env.runtime.events, { archive: reader }).load(
        workflowDecider,
        userId!,
        id,
      );
      expect(fromArchive.state.context).toEqual(before.get(id)!.state);
      await expect(new CommandHandler(env.runtime.events).load(workflowDecider, userId!, id)).rejects.toThrow(
        'no archive is configured',
      );
      // The workflow goes on: a command decided on a cold load appends after its last commit.
      await new CommandHandler(env.runtime.events, { archive: reader }).handle(workflowDecider, {
        commandId: `rename-${id}`,
        userId: userId!,
        aggregateId: id,
        command: { type: 'UpdateWorkflow', data: { name: `renamed ${id.slice(0, 8)}` } },
      });
    }
    // A rebuild from archive + log equals the live read models.
    const runner = new ProjectionRunner(deps, allProjections(env.runtime));
    await runner.start();
    await runner.waitFor((await env.runtime.nats.jsm.streams.info(streamNames.events)).state.last_seq);
    await runner.stop();
    const live = await dumpReadModels(env.runtime.db);
    const ours = (live.workflows as { id: string; name: string }[]).filter((w) => workflows.includes(w.id));
    expect(ours.map((w) => w.name).sort()).toEqual(workflows.map((id) => `renamed ${id.slice(0, 8)}`).sort());
    await rebuildAll(deps);
    expect(await dumpReadModels(env.runtime.db)).toEqual(live);
  });

  it('a sweep racing a rebuild changes no read model', async () => {
    const { deps, sweepDeps } = parts();
    const now = new Date(Date.now() + 31 * DAY_MS);
    for (let round = 0; round < 3; round++) {
      await generateEventLog(env.runtime.commands, { users: 1, workflowsPerUser: 2, jobsPerWorkflow: 10 });
      await rebuildAll(deps);
      const expected = await dumpReadModels(env.runtime.db);
      const analytics = await countJobEvents(env.runtime.clickhouse, env.config.CLICKHOUSE_DATABASE);
      const messages = await streamMessages();
      // Both at once, in either order; the sweep either runs before or after the rebuild, or stands aside.
      // Small batches: the rebuild reads the log a few commits at a time, long enough for a sweep to
      // purge what it has yet to read (without the lock, it lost those jobs' rows).
      await Promise.all([
        rebuildAll(deps, 10),
        sweepFinishedJobs(sweepDeps, { now, retentionDays: 30, batchSize: 5 }),
      ]);
      expect(await dumpReadModels(env.runtime.db)).toEqual(expected);
      expect(await countJobEvents(env.runtime.clickhouse, env.config.CLICKHOUSE_DATABASE)).toEqual(analytics);
      // Whatever it did, a rebuild after it gives the same rows, and it finishes its work later.
      await sweepFinishedJobs(sweepDeps, { now, retentionDays: 30 });
      await rebuildAll(deps);
      expect(await dumpReadModels(env.runtime.db)).toEqual(expected);
      expect(await streamMessages()).toBeLessThan(messages);
    }
  });
});
