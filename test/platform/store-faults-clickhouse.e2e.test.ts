// Store faults under load (issue 14, item 1): ClickHouse (job logs, analytics), a private server of
// the test's own (test/support/private-stores.ts). Per-second crons (a CONTAINER one writing three
// lines a run) and run-nows run while it is SIGKILLed and started again, then while it is stopped
// cleanly for a while. Every role keeps running, /readyz names clickhouse while it is down, a job's
// stored log is refused 503 with Retry-After meanwhile (never a 500), run-nows and ticks go on; the
// lines written during the outage wait in JetStream and reach ClickHouse after it returns (every
// completed run has its three lines, none twice), and the analytics projection catches up and equals
// a rebuild. The 30 s stop is shortened here to 6 s (smallPlan in
// test/support/store-chaos.ts, which checks every invariant); `npm run bench -- --only chaos` stops
// it for the full 30 s under a heavier load.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { assess, type ChaosWorld, runFault, smallPlan, startChaosWorld } from '../support/store-chaos.ts';

let world: ChaosWorld;

beforeAll(async () => {
  world = await startChaosWorld('clickhouse');
});

afterAll(async () => {
  await world?.dispose();
});

const plan = { containerWorkflows: 1 };

describe('ClickHouse faults under load', () => {
  it('SIGKILL then start: logs refused 503 meanwhile, every line stored after, projections equal a rebuild', async () => {
    const run = await runFault(world, smallPlan('restart', plan));
    const report = await assess(world, run, { rebuild: true });
    expect(report.violations).toEqual([]);
    expect(run.readsDuringOutage.map((r) => r.status)).toEqual([503]);
    expect(report.log_lines?.stored).toBeGreaterThan(0);
  });

  it('stopped for a while: the lines written meanwhile reach ClickHouse after it returns', async () => {
    const run = await runFault(world, smallPlan('stop', plan));
    const report = await assess(world, run, { rebuild: true });
    expect(report.violations).toEqual([]);
    expect(run.readsDuringOutage.map((r) => r.status)).toEqual([503]);
    expect(report.recovery_ms.logs).toBeDefined();
  });
});
