// A scheduler outage longer than the grace period: when it comes back, each workflow's missed ticks
// are handled as its catch-up policy says (latest / all / none), and the ledger still holds every
// nominal second exactly once.
import { describe, expect, it } from 'vitest';
import { workflowDecider } from '../../src/actors/workflow-decider.ts';
import { aggregateHistory } from '../../src/events/history.ts';
import type { CatchUpPolicy } from '../../src/events/workflow-events.ts';
import { postgresReadModels } from '../../src/projections/postgres-read-models.ts';
import { ProjectionRunner } from '../../src/projections/projection-runner.ts';
import { waitUntil } from '../../src/stack/process-control.ts';
import { createLogger } from '../../src/telemetry/logger.ts';
import { newId } from '../support/fixtures.ts';
import { startRole } from '../support/role-process.ts';
import { useTestEnvironment } from '../support/test-environment.ts';

const env = useTestEnvironment();
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('catch-up after a scheduler outage', () => {
  it('fires what each policy says and records the rest as missed', { timeout: 120_000 }, async () => {
    const { commands, db } = env.runtime;
    const projection = new ProjectionRunner(
      { nats: env.runtime.nats, db, log: createLogger('test', 'error') },
      postgresReadModels,
    );
    await projection.start();
    const userId = newId();
    const policies: CatchUpPolicy[] = ['latest', 'all', 'none'];
    const ids = new Map<CatchUpPolicy, string>();
    for (const catch_up of policies) {
      const id = newId();
      ids.set(catch_up, id);
      await commands.handle(workflowDecider, {
        commandId: newId(),
        userId,
        aggregateId: id,
        command: {
          type: 'CreateWorkflow',
          data: {
            workflow_id: id,
            user_id: userId,
            name: `catch-up ${catch_up}`,
            kind: 'HEARTBEAT',
            payload: { endpoint: 'http://127.0.0.1:9/' },
            // overlap allow: nothing runs the jobs here, and each fired tick must stay a fired one.
            schedule: { type: 'cron', cron: '* * * * * *', timezone: 'UTC', catch_up, overlap: 'allow' },
            max_consecutive_job_failures_allowed: 100,
          },
        },
      });
    }
    await waitUntil(
      'read model',
      async () => (await db.selectFrom('workflows').select('id').execute()).length === 3,
      20_000,
    );
    const roleEnv = { CV_SCHEDULER_GRACE_SECONDS: '2', CV_SCHEDULER_LOOKAHEAD_MS: '500' };

    let scheduler = startRole('scheduler', env.config, roleEnv);
    await scheduler.waitFor('"msg":"scheduler started"');
    await sleep(4000);
    expect(await scheduler.kill('SIGTERM')).toBe(0);
    const downFrom = Date.now();
    await sleep(8000);
    const downUntil = Date.now();
    scheduler = startRole('scheduler', env.config, roleEnv);
    await scheduler.waitFor('"msg":"scheduler started"');
    await sleep(5000);
    const stoppedAt = Date.now();
    expect(await scheduler.kill('SIGTERM')).toBe(0);
    await projection.stop();

    for (const policy of policies) {
      const history = await aggregateHistory(env.runtime.events, userId, 'workflow', ids.get(policy)!, {
        limit: 10_000,
      });
      const created = Date.parse(history.entries[0]!.event.occurredAt);
      const ledger = new Map<number, string>();
      for (const { event } of history.entries) {
        const d = event.data as { scheduled_at?: string; nominal_at?: string; reason?: string };
        if (event.type === 'JobScheduled') ledger.set(Date.parse(d.scheduled_at!), 'fired');
        if (event.type === 'TickSkipped') ledger.set(Date.parse(d.nominal_at!), d.reason!);
      }
      // Every second once, none twice.
      const firstTick = Math.floor(created / 1000) * 1000 + 1000;
      const seconds: number[] = [];
      for (let t = firstTick; t <= stoppedAt - 2000; t += 1000) seconds.push(t);
      expect([...ledger.keys()].filter((t) => t <= stoppedAt - 2000).sort((a, b) => a - b)).toEqual(seconds);
      // The ticks of the outage that were past the grace when the scheduler came back.
      const late = seconds.filter((t) => t > downFrom + 1000 && t < downUntil - 3000);
      const outcomes = late.map((t) => ledger.get(t));
      expect(late.length).toBeGreaterThan(3);
      if (policy === 'all') expect(outcomes.every((o) => o === 'fired')).toBe(true);
      if (policy === 'none') expect(outcomes.every((o) => o === 'missed')).toBe(true);
      if (policy === 'latest') {
        expect(outcomes.filter((o) => o === 'fired').length).toBeLessThanOrEqual(1);
        expect(outcomes.filter((o) => o === 'missed').length).toBeGreaterThanOrEqual(late.length - 1);
      }
    }
  });
});
