// Three scheduler processes share a couple of hundred workflows with per-second cron schedules. One
// is killed with SIGKILL in the middle; its workflows move to the others. Afterwards every nominal
// second of every workflow appears in its ledger exactly once — fired or skipped — with no gap and no
// duplicate.
import { describe, expect, it } from 'vitest';
import { workflowDecider } from '../../src/actors/workflow-decider.ts';
import { aggregateHistory } from '../../src/events/history.ts';
import { postgresReadModels } from '../../src/projections/postgres-read-models.ts';
import { ProjectionRunner } from '../../src/projections/projection-runner.ts';
import { waitUntil } from '../../src/stack/process-control.ts';
import { createLogger } from '../../src/telemetry/logger.ts';
import { newId } from '../support/fixtures.ts';
import { startRole } from '../support/role-process.ts';
import { useTestEnvironment } from '../support/test-environment.ts';

const env = useTestEnvironment();
const WORKFLOWS = 200;

describe('scheduler replicas', () => {
  it('fire every tick exactly once across three replicas and a SIGKILL', { timeout: 180_000 }, async () => {
    const { commands, db } = env.runtime;
    const projection = new ProjectionRunner(
      { nats: env.runtime.nats, db, log: createLogger('test', 'error') },
      postgresReadModels,
    );
    await projection.start();
    const userId = newId();
    const ids = Array.from({ length: WORKFLOWS }, () => newId());
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
              schedule: { type: 'cron', cron: '* * * * * *', timezone: 'UTC' },
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
    await new Promise((r) => setTimeout(r, 8000));
    await schedulers[0]!.kill('SIGKILL');
    await new Promise((r) => setTimeout(r, 12_000));
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
    let skipped = 0;
    for (const id of ids) {
      const history = await aggregateHistory(env.runtime.events, userId, 'workflow', id, { limit: 10_000 });
      const created = Date.parse(history.entries[0]!.event.occurredAt);
      const nominals: number[] = [];
      for (const { event } of history.entries) {
        if (event.type === 'JobScheduled') {
          nominals.push(Date.parse((event.data as { scheduled_at: string }).scheduled_at));
          fired++;
        } else if (event.type === 'TickSkipped') {
          nominals.push(Date.parse((event.data as { nominal_at: string }).nominal_at));
          skipped++;
        }
      }
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
    // Overlap policy `skip`: nothing runs these jobs here, so after the first each tick is skipped.
    expect(fired).toBe(WORKFLOWS);
    expect(skipped).toBeGreaterThan(WORKFLOWS * 15);
  });
});
