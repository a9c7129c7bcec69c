// Store faults under load (issue 14, item 1): PostgreSQL (read models, idempotency keys,
// credentials), a private cluster of the test's own (test/support/private-stores.ts). Per-second
// crons and run-nows run while it is SIGKILLed (postmaster and backends) and started again, then
// while it is stopped cleanly for a while. Every role keeps running (a connection lost while lent
// out of the pool once crashed the process), /readyz names postgres while it is down, run-nows with
// a key need the database before they append and are refused 503 with Retry-After, then accepted
// once each when retried; run-nows without a key are appended by the log alone and answered 201 (a
// 503 after the append once told the client to send it again); ticks go on from the scheduler's
// cache; the projections catch up and equal a rebuild. The 30 s stop is shortened here to
// 6 s (smallPlan in test/support/store-chaos.ts, which checks every invariant);
// `npm run bench -- --only chaos` stops it for the full 30 s under a heavier load.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  assess,
  type ChaosWorld,
  type FaultRun,
  runFault,
  smallPlan,
  startChaosWorld,
} from '../support/store-chaos.ts';

let world: ChaosWorld;

beforeAll(async () => {
  world = await startChaosWorld('postgres');
});

afterAll(async () => {
  await world?.dispose();
});

/** Run-nows without a key sent while the database was down: every one accepted. */
function keylessDuringOutage(run: FaultRun) {
  return run.answers.filter(
    (a) => a.key === undefined && a.sentAt > run.times.down && a.sentAt < run.times.up,
  );
}

describe('PostgreSQL faults under load', () => {
  it('SIGKILL then start: no crash, 503 + Retry-After for keyed run-nows, no half-write, read models equal a rebuild', async () => {
    const run = await runFault(world, smallPlan('restart'));
    const report = await assess(world, run, { rebuild: true });
    expect(report.violations).toEqual([]);
    expect(report.requests.by_status['503'] ?? 0, 'the outage was met').toBeGreaterThan(0);
    expect(keylessDuringOutage(run).filter((a) => a.status !== 201)).toEqual([]);
  });

  it('stopped for a while: the same, and the projections catch up', async () => {
    const run = await runFault(world, smallPlan('stop'));
    const report = await assess(world, run, { rebuild: true });
    expect(report.violations).toEqual([]);
    expect(report.requests.by_status['503'] ?? 0, 'the outage was met').toBeGreaterThan(0);
    const keyless = keylessDuringOutage(run);
    expect(keyless.length).toBeGreaterThan(0);
    expect(keyless.filter((a) => a.status !== 201)).toEqual([]);
    expect(report.recovery_ms.projections).toBeDefined();
  });
});
