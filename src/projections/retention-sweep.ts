// Retention of the event log (CV_EVENTS_RETENTION_DAYS): the subjects of jobs that finished longer
// ago than that are copied to the archive (ClickHouse event_archive), checked there, then purged from
// CV_EVENTS, so the hot log holds what is live plus a bounded tail instead of every job ever run.
//
// Crash safety: every step repeats harmlessly. A sweep killed after archiving and before purging
// archives the same commits again (they collapse on subject and sequence); one killed after purging and
// before recording finds the subject empty next time and records what the archive holds. Nothing is
// purged that the archive does not hold, nor anything a projection or a durable consumer of the log
// has yet to see. A sweep and a rebuild exclude each other (one advisory lock, the rebuild's shared):
// a rebuild reads archive and log as one history, which a purge between the two reads would tear.
import type { Kysely, Transaction } from 'kysely';
import { sql } from 'kysely';
import { usableSnapshot } from '../actors/snapshot-store.ts';
import { workflowMachine } from '../actors/workflow-machine.ts';
import type { EventStore } from '../events/event-store.ts';
import { encodeCommit, type StoredCommit } from '../events/event-store.ts';
import type { SnapshotStore } from '../events/snapshot-bucket.ts';
import { streamNames } from '../events/stream-definitions.ts';
import { eventSubject } from '../events/subjects.ts';
import type { Database } from '../infra/database.ts';
import type { Nats } from '../infra/nats-connection.ts';
import type { Logger } from '../telemetry/logger.ts';
import type { ArchivedCommit, EventArchive } from './event-archive.ts';

const ARCHIVE_LOCK = 'event-archive';
const DAY_MS = 86_400_000;
const FINISHED = ['COMPLETED', 'FAILED', 'CANCELED'] as const;

export interface RetentionSweepDeps {
  readonly nats: Nats;
  readonly db: Kysely<Database>;
  readonly store: EventStore;
  readonly archive: EventArchive;
  readonly log: Logger;
}

export interface SweepOptions {
  readonly now: Date;
  readonly retentionDays: number;
  /** Jobs archived per transaction (default 200). */
  readonly batchSize?: number;
  /** Batches per sweep at most (default: until none is left). */
  readonly maxBatches?: number;
}

export interface SweepResult {
  /** Subjects archived and purged by this sweep. */
  readonly subjects: number;
  readonly commits: number;
  /** True when a rebuild or another sweep held the archive: nothing was done, try later. */
  readonly busy: boolean;
  /** True when it stopped at a job some reader of the log has yet to see (it resumes there). */
  readonly heldBack: boolean;
}

/** Taken shared by a rebuild for its whole transaction; the sweep takes it alone, or skips. */
export async function lockArchiveShared(tx: Transaction<Database>): Promise<void> {
  await sql`select pg_advisory_xact_lock_shared(hashtext(${ARCHIVE_LOCK}))`.execute(tx);
}

async function tryLockArchive(tx: Transaction<Database>): Promise<boolean> {
  const { rows } = await sql<{
    locked: boolean;
  }>`select pg_try_advisory_xact_lock(hashtext(${ARCHIVE_LOCK})) as locked`.execute(tx);
  return rows[0]?.locked === true;
}

/**
 * The highest stream sequence every reader of the log has passed: each projection's checkpoint, and
 * for each durable consumer of CV_EVENTS what it still owes (its ack floor while it has messages out,
 * what it was last delivered while more wait; nothing once it is caught up).
 */
export async function readFloor(nats: Nats, db: Kysely<Database> | Transaction<Database>): Promise<number> {
  const checkpoints = await db.selectFrom('projection_checkpoints').select('last_sequence').execute();
  if (checkpoints.length === 0) return 0;
  let floor = Math.min(...checkpoints.map((c) => Number(c.last_sequence)));
  for await (const c of nats.jsm.consumers.list(streamNames.events)) {
    if (!c.config.durable_name) continue;
    if (c.num_ack_pending > 0) floor = Math.min(floor, c.ack_floor.stream_seq);
    else if (c.num_pending > 0) floor = Math.min(floor, c.delivered.stream_seq);
  }
  return floor;
}

export async function sweepFinishedJobs(
  deps: RetentionSweepDeps,
  options: SweepOptions,
): Promise<SweepResult> {
  const cutoff = new Date(options.now.getTime() - options.retentionDays * DAY_MS);
  const batchSize = options.batchSize ?? 200;
  let subjects = 0;
  let commits = 0;
  for (let batch = 0; batch < (options.maxBatches ?? Number.POSITIVE_INFINITY); batch++) {
    const result = await deps.db
      .transaction()
      .execute((tx) => sweepBatch(deps, tx, cutoff, batchSize, options.now));
    if (result === 'busy') return { subjects, commits, busy: true, heldBack: false };
    subjects += result.subjects;
    commits += result.commits;
    if (result.heldBack || result.candidates < batchSize) {
      return { subjects, commits, busy: false, heldBack: result.heldBack };
    }
  }
  return { subjects, commits, busy: false, heldBack: false };
}

interface Candidate {
  readonly id: string;
  readonly user_id: string;
  readonly updated_at: Date;
}

async function sweepBatch(
  deps: RetentionSweepDeps,
  tx: Transaction<Database>,
  cutoff: Date,
  batchSize: number,
  now: Date,
): Promise<'busy' | { subjects: number; commits: number; candidates: number; heldBack: boolean }> {
  if (!(await tryLockArchive(tx))) return 'busy';
  const floor = await readFloor(deps.nats, tx);
  // Oldest first, from the latest finish already archived: the search never rescans the archived past.
  const resumeFrom = await tx
    .selectFrom('archived_subjects')
    .select((eb) => eb.fn.max('finished_at').as('at'))
    .executeTakeFirst();
  const candidates: Candidate[] = await tx
    .selectFrom('jobs')
    .select(['id', 'user_id', 'updated_at'])
    .where('status', 'in', FINISHED)
    .where('updated_at', '<', cutoff)
    .$if(resumeFrom?.at != null, (q) => q.where('updated_at', '>=', resumeFrom!.at as Date))
    .where(({ not, exists, selectFrom }) =>
      not(
        exists(
          selectFrom('archived_subjects')
            .select('subject')
            .whereRef('archived_subjects.aggregate_id', '=', 'jobs.id')
            .where('archived_subjects.aggregate', '=', 'job'),
        ),
      ),
    )
    .orderBy('updated_at')
    .orderBy('id')
    .limit(batchSize)
    .execute();

  const toArchive: { candidate: Candidate; subject: string; commits: ArchivedCommit[] }[] = [];
  let heldBack = false;
  for (const candidate of candidates) {
    const subject = eventSubject(candidate.user_id, 'job', candidate.id);
    const stored = await deps.store.read(subject);
    if ((stored.at(-1)?.sequence ?? 0) > floor) {
      // Some reader has yet to see this job's last commit; later jobs wait with it (oldest first).
      heldBack = true;
      break;
    }
    toArchive.push({
      candidate,
      subject,
      commits: stored.map((c) => ({
        sequence: c.sequence,
        subject,
        commit: new TextDecoder().decode(encodeCommit(c.events)),
      })),
    });
  }
  if (toArchive.length === 0) return { subjects: 0, commits: 0, candidates: candidates.length, heldBack };

  await deps.archive.write(
    toArchive.flatMap((a) => a.commits),
    now,
  );
  const held = await deps.archive.held(toArchive.map((a) => a.subject));
  let commits = 0;
  for (const a of toArchive) {
    const inArchive = held.get(a.subject) ?? { commits: 0, lastSequence: 0 };
    const last = a.commits.at(-1)?.sequence ?? inArchive.lastSequence;
    if (a.commits.length > 0 && inArchive.lastSequence < last) {
      throw new Error(`the archive does not hold ${a.subject} up to ${last}; nothing of it purged`);
    }
    if (a.commits.length > 0) {
      // Below `last + 1` only: a commit appended after the read above stays in the log.
      await deps.nats.jsm.streams.purge(deps.store.stream, { filter: a.subject, seq: last + 1 });
    } else if (inArchive.commits === 0) {
      deps.log.warn('a finished job has no commits in the log nor in the archive', { subject: a.subject });
    }
    commits += a.commits.length;
    await tx
      .insertInto('archived_subjects')
      .values({
        subject: a.subject,
        user_id: a.candidate.user_id,
        aggregate: 'job',
        aggregate_id: a.candidate.id,
        commits: Math.max(a.commits.length, inArchive.commits),
        last_sequence: last,
        finished_at: a.candidate.updated_at,
        archived_at: now,
      })
      .onConflict((oc) => oc.column('subject').doNothing())
      .execute();
  }
  return { subjects: toArchive.length, commits, candidates: candidates.length, heldBack };
}

export interface CompactionDeps extends RetentionSweepDeps {
  readonly snapshots: SnapshotStore;
}

/** The sweep's and the compaction's parts, as a process's runtime holds them. */
export function retentionDeps(runtime: {
  readonly nats: Nats;
  readonly db: Kysely<Database>;
  readonly events: EventStore;
  readonly archive: EventArchive;
  readonly snapshots: SnapshotStore;
  readonly log: Logger;
}): CompactionDeps {
  const { nats, db, events, archive, snapshots, log } = runtime;
  return { nats, db, store: events, archive, snapshots, log };
}

export interface CompactionResult {
  readonly subjects: number;
  readonly commits: number;
  readonly busy: boolean;
}

/**
 * A workflow's own subject grows by a commit or two per job for as long as it fires. Its commits from
 * before the retention age that lie behind its latest persisted snapshot move to the archive: a cold
 * load starts from that snapshot and never reads them. The snapshot's own commit stays, as the anchor
 * a load checks it against; a load that cannot use the snapshot (new code) reads the archive for the
 * rest (src/actors/command-handler.ts). "Before the retention age" is told by the stream's order: a
 * commit older than the last archived job's last commit was appended before that job finished.
 */
export async function compactWorkflows(
  deps: CompactionDeps,
  options: { readonly now: Date; readonly pageSize?: number },
): Promise<CompactionResult> {
  const pageSize = options.pageSize ?? 200;
  let subjects = 0;
  let commits = 0;
  let afterId = '';
  for (;;) {
    const page = await deps.db.transaction().execute(async (tx) => {
      if (!(await tryLockArchive(tx))) return 'busy' as const;
      const floor = await readFloor(deps.nats, tx);
      const archivedUpTo = await tx
        .selectFrom('archived_subjects')
        .select((eb) => eb.fn.max('last_sequence').as('last'))
        .executeTakeFirst();
      const before = Math.min(floor, Number(archivedUpTo?.last ?? 0)) + 1;
      // No job archived yet: nothing is old enough to move, and no workflow need be asked.
      if (before <= 1) return { workflows: [], pageCommits: 0, pageSubjects: 0 };
      const workflows = await tx
        .selectFrom('workflows')
        .select(['id', 'user_id'])
        .where('id', '>', afterId)
        .orderBy('id')
        .limit(pageSize)
        .execute();
      let pageCommits = 0;
      let pageSubjects = 0;
      for (const w of workflows) {
        const moved = await compactWorkflow(
          deps,
          eventSubject(w.user_id, 'workflow', w.id),
          before,
          options.now,
        );
        if (moved > 0) {
          pageSubjects++;
          pageCommits += moved;
        }
      }
      return { workflows, pageCommits, pageSubjects };
    });
    if (page === 'busy') return { subjects, commits, busy: true };
    subjects += page.pageSubjects;
    commits += page.pageCommits;
    if (page.workflows.length < pageSize) return { subjects, commits, busy: false };
    afterId = page.workflows.at(-1)!.id;
  }
}

/** Moves the subject's commits below `min(before, its snapshot's version)` to the archive; how many. */
async function compactWorkflow(
  deps: CompactionDeps,
  subject: string,
  before: number,
  now: Date,
): Promise<number> {
  const last = await deps.store.lastSequence(subject);
  const snapshot = usableSnapshot(
    await deps.snapshots.get(subject).catch(() => undefined),
    workflowMachine,
    last,
  );
  if (!snapshot) return 0;
  const bound = Math.min(before, snapshot.version);
  const [anchor] = await deps.store.read(subject, snapshot.version, snapshot.version);
  // Only behind a snapshot a load would take: the commit it names is there and is the one it folded.
  if (anchor?.sequence !== snapshot.version || anchor.events.at(-1)?.id !== snapshot.lastEventId) return 0;
  const [first] = await deps.store.read(subject, 1, bound - 1, 1);
  if (!first) return 0;
  const older: StoredCommit[] = await deps.store.read(subject, first.sequence, bound - 1);
  if (older.length === 0) return 0;
  await deps.archive.write(
    older.map((c) => ({
      sequence: c.sequence,
      subject,
      commit: new TextDecoder().decode(encodeCommit(c.events)),
    })),
    now,
  );
  const held = (await deps.archive.held([subject])).get(subject);
  const lastOlder = older.at(-1)!.sequence;
  if (!held || held.lastSequence < lastOlder) {
    throw new Error(`the archive does not hold ${subject} up to ${lastOlder}; nothing of it purged`);
  }
  await deps.nats.jsm.streams.purge(deps.store.stream, { filter: subject, seq: lastOlder + 1 });
  return older.length;
}
