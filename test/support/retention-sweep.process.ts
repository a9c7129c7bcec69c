// A separate OS process that runs the retention sweep and the workflow compaction once, as the
// projector does, with the clock 31 days ahead and small batches: killed at any instant by the test
// of its crash safety (test/core/event-retention-sigkill.int.test.ts). Its configuration is the
// environment's (NATS_URL, DATABASE_URL, CLICKHOUSE_URL, CLICKHOUSE_DATABASE).
import { loadConfig } from '../../src/config/config.ts';
import { compactWorkflows, retentionDeps, sweepFinishedJobs } from '../../src/projections/retention-sweep.ts';
import { openRuntime } from '../../src/runtime/runtime.ts';

const runtime = await openRuntime(loadConfig(), 'retention-sweep');
const deps = retentionDeps(runtime);
const now = new Date(Date.now() + 31 * 86_400_000);
const jobs = await sweepFinishedJobs(deps, { now, retentionDays: 30, batchSize: 3 });
const workflows = await compactWorkflows(deps, { now, pageSize: 1 });
process.stdout.write(`${JSON.stringify({ jobs, workflows })}\n`);
await runtime.close();
