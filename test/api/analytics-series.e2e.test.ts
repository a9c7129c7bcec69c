// GET /analytics/series end to end: real jobs run by a real executor in Docker, counted by their
// nominal hour in PostgreSQL (outcomes, duration and lateness percentiles) and their log lines in
// ClickHouse, per user and per workflow, scoped to the caller.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitUntil } from '../../src/stack/process-control.ts';
import { ApiClient, startSystem, type TestSystem } from '../support/system.ts';
import { createContainerWorkflow, runNow, waitForJob } from '../support/workflow-api.ts';

let system: TestSystem;
let alice: ApiClient;

type Point = {
  at: string;
  completed: number;
  failed: number;
  canceled: number;
  active: number;
  duration_p50_ms: number | null;
  duration_p95_ms: number | null;
  lateness_p50_ms: number | null;
  lateness_p95_ms: number | null;
  log_lines: number;
};
type Series = { bucket: string; from: string; to: string; workflow_id: string | null; points: Point[] };

beforeAll(async () => {
  system = await startSystem();
  alice = new ApiClient(system.baseUrl);
  await alice.signUp('alice.analytics@example.com');
});

afterAll(async () => {
  await system?.dispose();
});

const containerWorkflow = (name: string, script: string) =>
  createContainerWorkflow(alice, name, ['sh', '-c', script], { interval: 60 });

async function runToEnd(workflowId: string): Promise<void> {
  expect(await waitForJob(alice, workflowId, await runNow(alice, workflowId))).toMatch(/COMPLETED|FAILED/);
}

const sum = (s: Series, key: keyof Omit<Point, 'at'>) =>
  s.points.reduce((n, p) => n + Number(p[key] ?? 0), 0);

describe('GET /analytics/series', () => {
  let ok: string;
  let bad: string;

  beforeAll(async () => {
    ok = await containerWorkflow('three lines', 'echo one; echo two; echo three');
    bad = await containerWorkflow('fails', 'echo about to fail; exit 3');
    await runToEnd(ok);
    await runToEnd(ok);
    await runToEnd(bad);
  }, 180_000);

  it("answers the caller's jobs by outcome with duration and lateness, and their log lines, by hour", async () => {
    let series: Series | undefined;
    // Log lines reach ClickHouse after the job's end is recorded: wait for all seven.
    await waitUntil(
      'log lines counted',
      async () => {
        series = (await alice.get<Series>('/analytics/series')).body;
        return sum(series, 'log_lines') === 7;
      },
      30_000,
    );
    const s = series!;
    expect(s.bucket).toBe('hour');
    expect(s.points).toHaveLength(24);
    expect(Date.parse(s.to) - Date.parse(s.from)).toBe(24 * 3600_000);
    expect(sum(s, 'completed')).toBe(2);
    expect(sum(s, 'failed')).toBe(1);
    const busy = s.points.filter((p) => p.completed + p.failed > 0);
    expect(busy.length).toBeGreaterThan(0);
    for (const p of busy) {
      expect(p.duration_p50_ms).toBeGreaterThan(0);
      expect(p.duration_p95_ms!).toBeGreaterThanOrEqual(p.duration_p50_ms!);
      expect(p.lateness_p50_ms).not.toBeNull();
    }
    // Quiet hours are zero, not missing.
    expect(
      s.points.filter((p) => p.completed + p.failed === 0).every((p) => p.duration_p50_ms === null),
    ).toBe(true);
  });

  it('answers one workflow alone, and by day', async () => {
    const s = (await alice.get<Series>(`/analytics/series?workflow_id=${bad}&bucket=day`)).body;
    expect(s.workflow_id).toBe(bad);
    expect(s.points).toHaveLength(30);
    expect([sum(s, 'completed'), sum(s, 'failed'), sum(s, 'log_lines')]).toEqual([0, 1, 1]);
  });

  it("answers 404 for another user's workflow and shows none of the first user's jobs", async () => {
    const bob = new ApiClient(system.baseUrl);
    await bob.signUp('bob.analytics@example.com');
    const other = await bob.get<{ code: string }>(`/analytics/series?workflow_id=${ok}`);
    expect(other.status).toBe(404);
    const own = (await bob.get<Series>('/analytics/series')).body;
    expect([sum(own, 'completed'), sum(own, 'failed'), sum(own, 'log_lines')]).toEqual([0, 0, 0]);
  });

  it('refuses a range over the cap, a reversed one and an unknown bucket with 422 and a code', async () => {
    const long = await alice.get<{ code: string; detail: string }>(
      '/analytics/series?from=2020-01-01T00:00:00Z&to=2026-01-01T00:00:00Z',
    );
    expect(long.status).toBe(422);
    expect(long.body.code).toBe('range_too_large');
    const reversed = await alice.get<{ code: string }>(
      '/analytics/series?from=2026-12-02T00:00:00Z&to=2026-12-01T00:00:00Z',
    );
    expect([reversed.status, reversed.body.code]).toEqual([422, 'invalid_range']);
    expect((await alice.get('/analytics/series?bucket=week')).status).toBe(422);
    expect((await alice.get('/analytics/series?from=yesterday')).status).toBe(422);
  });
});
