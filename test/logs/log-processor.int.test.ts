// A job printing 100,000 lines ends in ClickHouse with every line exactly once, also when the log
// processor (in the projector process) is killed with SIGKILL in the middle and restarted.
import { describe, expect, it } from 'vitest';
import { waitUntil } from '../../src/stack/process-control.ts';
import { TEST_IMAGE, useExecutorHarness } from '../support/executor-harness.ts';
import { startRole } from '../support/role-process.ts';

const h = useExecutorHarness();

async function stored(
  jobId: string,
): Promise<{ rows: number; distinct: number; first: number; last: number }> {
  const rs = await h.env.runtime.clickhouse.query({
    query: `SELECT count() AS rows, uniqExact(attempt, sequence) AS distinct, min(sequence) AS first, max(sequence) AS last
            FROM ${h.env.config.CLICKHOUSE_DATABASE}.job_logs FINAL WHERE job_id = '${jobId}'`,
    format: 'JSONEachRow',
  });
  const [r] = await rs.json<{ rows: number; distinct: number; first: number; last: number }>();
  return {
    rows: Number(r!.rows),
    distinct: Number(r!.distinct),
    first: Number(r!.first),
    last: Number(r!.last),
  };
}

describe('log processor', () => {
  it('stores 100,000 lines exactly once across a SIGKILL', { timeout: 240_000 }, async () => {
    const wf = await h.createWorkflow('CONTAINER', {
      image: TEST_IMAGE,
      cmd: ['sh', '-c', 'seq 1 100000; echo "quote \\" back\\\\slash 100% _x_ grüße" >&2'],
      timeout: '2m',
    });
    const jobId = await h.runNow(wf);
    expect((await h.waitForFinal(jobId, 120_000)).status).toBe('COMPLETED');

    let projector = startRole('projector', h.env.config);
    await waitUntil('some lines stored', async () => (await stored(jobId)).rows > 0, 60_000).catch((err) => {
      throw new Error(`${err}\n${projector.output()}`);
    });
    await projector.kill('SIGKILL');
    const partial = await stored(jobId);
    projector = startRole('projector', h.env.config);
    await waitUntil('all lines stored', async () => (await stored(jobId)).rows >= 100_001, 120_000);
    await projector.kill('SIGTERM');

    expect(await stored(jobId)).toEqual({ rows: 100_001, distinct: 100_001, first: 1, last: 100_001 });
    // The text survives as written, quotes, backslashes and non-ASCII included.
    const rs = await h.env.runtime.clickhouse.query({
      query: `SELECT message, stream FROM ${h.env.config.CLICKHOUSE_DATABASE}.job_logs FINAL WHERE job_id = '${jobId}' AND stream = 'stderr'`,
      format: 'JSONEachRow',
    });
    expect(await rs.json()).toEqual([{ message: 'quote " back\\slash 100% _x_ grüße', stream: 'stderr' }]);
    // It was killed with work left (otherwise this test proves nothing about the crash).
    expect(partial.rows).toBeLessThan(100_001);
  });
});
