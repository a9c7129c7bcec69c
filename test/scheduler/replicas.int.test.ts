// Three scheduler processes share a few hundred workflows with per-second cron schedules for over a
// minute. One is killed with SIGKILL in the middle; its workflows move to the others well within the
// grace period, so no tick is missed. Some workflows are paused across the kill and resumed after it.
// Afterwards every nominal second of every workflow appears in its ledger exactly once — fired or
// skipped — with no gap and no duplicate, and `paused` only within a pause, as its catch-up policy says.
// A share of the workflows are jittered (overlap allow, so each of their ticks fires a job): every
// replica, before and after the kill, fires each of their ticks at the one time the pure jitter
// function gives for (workflow, nominal time), in the decision and on the job.
import { describe, expect, it } from 'vitest';
import { workflowDecider } from '../../src/actors/workflow-decider.ts';
import { aggregateHistory } from '../../src/events/history.ts';
import type { CatchUpPolicy } from '../../src/events/workflow-events.ts';
import { postgresReadModels } from '../../src/projections/postgres-read-models.ts';
import { ProjectionRunner } from '../../src/projections/projection-runner.ts';
import { waitUntil } from '../../src/stack/process-control.ts';
import { createLogger } from '../../src/telemetry/logger.ts';
import { jitteredTime } from '../../src/workflows/jitter.ts';
import { newId } from '../support/fixtures.ts';
import { startRole } from '../support/role-process.ts';
import { useTestEnvironment } from '../support/test-environment.ts';

const env = useTestEnvironment();
const WORKFLOWS = 300;
// Paused from 10 s to 45 s, across the SIGKILL at 25 s; the run ends at 70 s.
const PAUSED_PER_POLICY = 10;
// The last ones (never paused): jitter_seconds 1, the most a per-second cron allows.
const JITTERED = 20;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('scheduler replicas', () => {
  it('fire every tick exactly once across three replicas, a SIGKILL and a pause', {
    timeout: 180_000,
  }, async () => {
    const { commands, db } = env.runtime;
    const projection = new ProjectionRunner(
      { nats: env.runtime.nats, db, log: createLogger('test', 'error') },
      postgresReadModels,
    );
    await projection.start();
    const userId = newId();
    const ids = Array.from({ length: WORKFLOWS }, () => newId());
    const policies: CatchUpPolicy[] = ['latest', 'all', 'none'];
    const pausedPolicy = new Map<string, CatchUpPolicy>(
      policies.flatMap((p, i) =>
        ids
          .slice(i * PAUSED_PER_POLICY, (i + 1) * PAUSED_PER_POLICY)
          .map((id): [string, CatchUpPolicy] => [id, p]),
      ),
    );
    const jittered = new Set(ids.slice(-JITTERED));
    const lifecycle = (type: 'PauseWorkflow' | 'ResumeWorkflow') =>
      Promise.all(
        [...pausedPolicy.keys()].map((id) =>
          commands.handle(workflowDecider, {
            commandId: newId(),
            userId,
            aggregateId: id,
            command: { type, data: {} },
          }),
        ),
      );
    await Promise.all(
      ids.map((id) =>
        commands.handle(workflowDecider, {
          commandId: newId(),
          userId,
          aggregateId: id,
          command: {
            type: 'CreateWorkflow',
            data: {
              workflow_id: id,
              user_id: userId,
              name: 'every second',
              kind: 'HEARTBEAT',
              payload: { endpoint: 'http://127.0.0.1:9/' },
              schedule: {
                type: 'cron',
                cron: '* * * * * *',
                timezone: 'UTC',
                catch_up: pausedPolicy.get(id) ?? 'latest',
                ...(jittered.has(id) ? { jitter_seconds: 1, overlap: 'allow' as const } : {}),
              },
              max_consecutive_job_failures_allowed: 100,
            },
          },
        }),
      ),
    );
    await waitUntil(
      'read model has the workflows',
      async () => (await db.selectFrom('workflows').select('id').execute()).length === WORKFLOWS,
      30_000,
    );

    const schedulers = [0, 1, 2].map(() =>
      startRole('scheduler', env.config, { CV_SCHEDULER_LOOKAHEAD_MS: '1000' }),
    );
    // Until every replica is up and deciding ticks (on a loaded machine three processes take a while to
    // start: a tick still undecided at the pause would rightly be recorded as paused).
    await waitUntil(
      'every workflow ticking',
      async () => {
        const since = new Date(Date.now() - 2000);
        const rows = await db
          .selectFrom('workflows')
          .select('id')
          .where('last_tick_at', '>=', since)
          .execute();
        return rows.length === WORKFLOWS;
      },
      60_000,
    );
    await sleep(3000);
    const pausedFrom = Date.now();
    await lifecycle('PauseWorkflow');
    await sleep(15_000);
    await schedulers[0]!.kill('SIGKILL');
    await sleep(20_000);
    const resumedFrom = Date.now();
    await lifecycle('ResumeWorkflow');
    const resumedAt = Date.now();
    await sleep(25_000);
    const stoppedAt = Date.now();
    for (const s of schedulers.slice(1)) expect(await s.kill('SIGTERM')).toBe(0);
    await projection.stop();

    const outputs = schedulers
      .map(
        (s, i) =>
          `--- scheduler ${i}\n${s
            .output()
            .split('\n')
            .filter((l) => !l.includes('"level":"info"'))
            .slice(0, 30)
            .join('\n')}`,
      )
      .join('\n');
    let fired = 0;
    let firedJittered = 0;
    let skipped = 0;
    const pauseSeconds = Math.floor((resumedFrom - pausedFrom) / 1000);
    for (const id of ids) {
      const history = await aggregateHistory(env.runtime.events, userId, 'workflow', id, { limit: 10_000 });
      const created = Date.parse(history.entries[0]!.event.occurredAt);
      const nominals: number[] = [];
      const paused: number[] = [];
      for (const { event } of history.entries) {
        if (event.type === 'JobScheduled') {
          const { scheduled_at, fire_at } = event.data as { scheduled_at: string; fire_at?: string };
          nominals.push(Date.parse(scheduled_at));
          fired++;
          if (jittered.has(id)) {
            firedJittered++;
            expect(fire_at, `${id} ${scheduled_at}`).toBe(jitteredTime(id, scheduled_at, 1));
          } else expect(fire_at).toBeUndefined();
        } else if (event.type === 'TickSkipped') {
          const { nominal_at, reason } = event.data as { nominal_at: string; reason: string };
          nominals.push(Date.parse(nominal_at));
          skipped++;
          // The killed replica's workflows were taken over within the grace period: nothing missed.
          expect(reason, `${id} ${nominal_at}\n${outputs}`).not.toBe('missed');
          if (reason === 'paused') paused.push(Date.parse(nominal_at));
        }
      }
      // Paused only within the pause (ticks decided a second ahead of it or racing it count in).
      for (const t of paused) {
        expect(t).toBeGreaterThanOrEqual(pausedFrom - 1000);
        expect(t).toBeLessThanOrEqual(resumedAt + 1000);
      }
      const policy = pausedPolicy.get(id);
      if (policy === undefined) expect(paused).toEqual([]);
      // latest holds one tick of the pause for the resume and none records them all; all holds
      // them (a 1 h window) and fires them on resume (they overlap here: nothing runs the jobs),
      // so only the few ticks that raced the pause are paused.
      else if (policy === 'all') expect(paused.length, id).toBeLessThanOrEqual(5);
      else expect(paused.length, `${policy} ${id}`).toBeGreaterThanOrEqual(pauseSeconds - 5);
      // No tick twice.
      expect(new Set(nominals).size).toBe(nominals.length);
      // No gap: every whole second after creation up to shortly before the stop is there.
      const first = Math.floor(created / 1000) * 1000 + 1000;
      const expected: number[] = [];
      for (let t = first; t <= stoppedAt - 3000; t += 1000) expected.push(t);
      expect(
        nominals.filter((n) => n <= stoppedAt - 3000),
        outputs,
      ).toEqual(expected);
    }
    // Overlap policy `skip`: nothing runs these jobs here, so after the first each tick is skipped;
    // the jittered ones (allow) fire every tick.
    expect(fired - firedJittered).toBe(WORKFLOWS - JITTERED);
    expect(firedJittered).toBeGreaterThan(JITTERED * 60);
    // Their jobs, created by whichever replica's reactors, start at the same jittered time.
    const jobs = await db
      .selectFrom('jobs')
      .select(['workflow_id', 'scheduled_at', 'fire_at'])
      .where('workflow_id', 'in', [...jittered])
      .execute();
    expect(jobs.length).toBeGreaterThan(JITTERED * 60);
    for (const j of jobs) {
      const nominal = j.scheduled_at.toISOString();
      expect(j.fire_at?.toISOString(), `${j.workflow_id} ${nominal}`).toBe(
        jitteredTime(j.workflow_id, nominal, 1),
      );
    }
    expect(skipped).toBeGreaterThan(WORKFLOWS * 60);
  });
});
