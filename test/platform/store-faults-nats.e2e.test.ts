// Store faults under load (issue 14, item 1): nats-server, the event log itself. Per-second crons
// and run-nows (with an Idempotency-Key) run while the server is SIGKILLed and started again, then
// while it is stopped cleanly for a while. Every role keeps running, /readyz names NATS while it is
// down, every run-now is answered 201 or 503 with Retry-After (never a 500) and a refused one retried
// with its key is accepted and makes exactly one job; every tick ends as exactly one event, the ones
// due during the outage by the catch-up policy (`latest`, grace 2 s); the read models equal a rebuild
// of the log. The 30 s stop is shortened here to 6 s (smallPlan in
// test/support/store-chaos.ts, which checks every invariant); `npm run bench -- --only chaos` stops
// the server for the full 30 s under a heavier load.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { assess, type ChaosWorld, runFault, smallPlan, startChaosWorld } from '../support/store-chaos.ts';

let world: ChaosWorld;

beforeAll(async () => {
  world = await startChaosWorld('nats');
});

afterAll(async () => {
  await world?.dispose();
});

describe('nats-server faults under load', () => {
  it('SIGKILL then start: 201 or 503 + Retry-After, each key one job, each tick one event, read models equal a rebuild', async () => {
    const report = await assess(world, await runFault(world, smallPlan('restart')), { rebuild: true });
    expect(report.violations).toEqual([]);
    expect(report.requests.by_status['503'] ?? 0, 'the outage was met').toBeGreaterThan(0);
  });

  it('stopped for a while: the same, and the ticks due meanwhile follow the catch-up policy', async () => {
    const report = await assess(world, await runFault(world, smallPlan('stop')), { rebuild: true });
    expect(report.violations).toEqual([]);
    expect(report.requests.by_status['503'] ?? 0, 'the outage was met').toBeGreaterThan(0);
    expect(report.ticks.by_outcome.missed ?? 0, 'ticks were late beyond the grace').toBeGreaterThan(0);
  });
});
