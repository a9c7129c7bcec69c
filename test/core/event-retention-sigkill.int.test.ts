// The retention sweep SIGKILLed at random instants, again and again, then let finish: every finished
// job's commits end up in the archive and out of the log exactly once, nothing else leaves the log,
// every history reads as before, and a rebuild from archive + log equals the read models from before.
import { spawn } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { aggregateHistory, type HistoryEntry } from '../../src/events/history.ts';
import { streamNames } from '../../src/events/stream-definitions.ts';
import { eventSubject } from '../../src/events/subjects.ts';
import { countJobEvents } from '../../src/projections/clickhouse-job-events.ts';
import { rebuildProjection } from '../../src/projections/projection-batch.ts';
import { allProjections } from '../../src/projections/registry.ts';
import { createLogger } from '../../src/telemetry/logger.ts';
import { generateEventLog } from '../support/event-log-generator.ts';
import { dumpReadModels } from '../support/read-model-dump.ts';
import { useTestEnvironment } from '../support/test-environment.ts';

const env = useTestEnvironment();

/**
 * Runs the sweep in its own process; SIGKILLed as soon as `killWhen` says so (polled every 10 ms),
 * unless it finished first.
 */
function runSweep(killWhen?: () => Promise<boolean>): Promise<{ killed: boolean; out: string }> {
  const c = env.config;
  const child = spawn(
    'node_modules/.bin/node',
    ['--import', 'tsx', 'test/support/retention-sweep.process.ts'],
    {
      env: {
        ...process.env,
        NATS_URL: c.NATS_URL,
        DATABASE_URL: c.DATABASE_URL,
        CLICKHOUSE_URL: c.CLICKHOUSE_URL,
        CLICKHOUSE_DATABASE: c.CLICKHOUSE_DATABASE,
        CV_LOG_LEVEL: 'error',
      },
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  );
  let out = '';
  child.stdout.on('data', (b: Buffer) => (out += b));
  let exited = false;
  const done = new Promise<{ killed: boolean; out: string }>((resolve, reject) =>
    child.once('exit', (code, signal) => {
      exited = true;
      if (signal === 'SIGKILL') resolve({ killed: true, out });
      else if (code === 0) resolve({ killed: false, out });
      else reject(new Error(`sweep exited ${code}`));
    }),
  );
  if (killWhen) {
    void (async () => {
      while (!exited) {
        if (await killWhen()) {
          child.kill('SIGKILL');
          return;
        }
        await new Promise((r) => setTimeout(r, 10));
      }
    })();
  }
  return done;
}

describe('retention sweep under SIGKILL', () => {
  it('moves every finished job once, loses nothing, and a rebuild equals the read models from before', async () => {
    const log = createLogger('test', 'error');
    const archive = env.runtime.archive;
    const reader = archive;
    const deps = { nats: env.runtime.nats, db: env.runtime.db, log, archive };
    await generateEventLog(env.runtime.commands, { users: 2, workflowsPerUser: 3, jobsPerWorkflow: 10 });
    for (const p of allProjections(env.runtime)) await rebuildProjection(deps, p);
    const before = await dumpReadModels(env.runtime.db);
    const analytics = await countJobEvents(env.runtime.clickhouse, env.config.CLICKHOUSE_DATABASE);
    const jobs = before.jobs as { id: string; user_id: string }[];
    const history = async (userId: string, jobId: string) => {
      const entries: HistoryEntry[] = [];
      let after = 0;
      for (;;) {
        const page = await aggregateHistory(env.runtime.events, userId, 'job', jobId, { after }, reader);
        entries.push(...page.entries);
        if (page.next === null) return entries;
        after = page.next;
      }
    };
    const histories = new Map<string, HistoryEntry[]>();
    for (const j of jobs) histories.set(j.id, await history(j.user_id, j.id));
    const messagesBefore = (await env.runtime.nats.jsm.streams.info(streamNames.events)).state.messages;

    // Killed as soon as it has moved something more than the run before left: always mid-sweep,
    // at whatever step (archived, purged, recorded) the poll catches it.
    const messages = async () => (await env.runtime.nats.jsm.streams.info(streamNames.events)).state.messages;
    let kills = 0;
    for (let round = 0; round < 8; round++) {
      const from = await messages();
      const r = await runSweep(async () => (await messages()) < from);
      if (!r.killed) break;
      kills++;
    }
    expect(kills).toBeGreaterThan(2);
    const last = await runSweep();
    expect(last.killed).toBe(false);

    // Every job's subject left the log; its history reads the same from the archive.
    for (const j of jobs) {
      expect(await env.runtime.events.lastSequence(eventSubject(j.user_id, 'job', j.id))).toBe(0);
      expect(await history(j.user_id, j.id)).toEqual(histories.get(j.id));
    }
    // What left the log is in the archive, once: the archive holds exactly the commits the log lost.
    const rs = await env.runtime.clickhouse.query({
      query: `SELECT count() AS n, uniqExact(sequence) AS distinct_sequences FROM ${env.config.CLICKHOUSE_DATABASE}.event_archive FINAL`,
      format: 'JSONEachRow',
    });
    const [held] = await rs.json<{ n: string; distinct_sequences: string }>();
    const messagesAfter = (await env.runtime.nats.jsm.streams.info(streamNames.events)).state.messages;
    expect(Number(held!.n)).toBe(Number(held!.distinct_sequences));
    expect(messagesAfter + Number(held!.n)).toBe(messagesBefore);
    expect(await env.runtime.db.selectFrom('archived_subjects').select('subject').execute()).toHaveLength(
      jobs.length,
    );

    for (const p of allProjections(env.runtime)) await rebuildProjection(deps, p);
    expect(await dumpReadModels(env.runtime.db)).toEqual(before);
    expect(await countJobEvents(env.runtime.clickhouse, env.config.CLICKHOUSE_DATABASE)).toEqual(analytics);
  });
});
