// API reads (issue 4): `GET /workflows` and `GET /workflows/{id}/jobs` of the real API process
// (`chronoverse api,projector`, started by test/support/system.ts) over a read model of 10,000 workflows and
// 100,000 jobs, driven at a fixed arrival rate by a separate load process
// (bench/support/load-generator.ts), with `GET /healthz` (no database) as the baseline of the same
// run. The rows are seeded directly into the read model tables (bench/support/read-model-seed.ts),
// not through the event log: the routes read only those tables.
import { CompiledQuery, type Kysely, sql } from 'kysely';
import type { Database } from '../src/infra/database.ts';
import { connectPostgres } from '../src/infra/postgres-connection.ts';
import { decodeCursor } from '../src/queries/paging.ts';
import { waitUntil } from '../src/stack/process-control.ts';
import { ApiClient } from '../test/support/system.ts';
import { startBenchSystem } from './support/api-system.ts';
import type { Benchmark, Progress, Scale } from './support/benchmark.ts';
import { type LoadResult, runLoadProcess } from './support/load.ts';
import { prng, type SeedShape, seedReadModel, shuffled } from './support/read-model-seed.ts';
import { round } from './support/stats.ts';

interface Shape extends SeedShape {
  rate: number;
  durationMs: number;
  warmupMs: number;
}

const shapes: Record<Scale, Shape> = {
  full: {
    workflows: 10_000,
    jobs: 100_000,
    hotJobs: 10_000,
    otherWorkflows: 300,
    otherJobsPerWorkflow: 3,
    rate: 500,
    durationMs: 30_000,
    warmupMs: 3_000,
  },
  small: {
    workflows: 1_000,
    jobs: 10_000,
    hotJobs: 1_000,
    otherWorkflows: 50,
    otherJobsPerWorkflow: 3,
    rate: 100,
    durationMs: 5_000,
    warmupMs: 1_000,
  },
};

/** Issue 4's target: p99 under 25 ms at 500 requests/s, on every scenario. */
const TARGET = { rate_per_s: 500, p99_below_ms: 25 };
/** A scenario meets the target only if (nearly) every scheduled request was answered with 200. */
const MIN_ACHIEVED_SHARE = 0.98;
const PAGE = 10;
/** Page size of the walk that harvests cursors (and checks the seeded rows are all reachable). */
const HARVEST_PAGE = 100;
const CONNECTIONS = 64;
const TIMEOUT_MS = 10_000;

type ScenarioName =
  | 'healthz'
  | 'workflows_first_page'
  | 'workflows_deep_pages'
  | 'jobs_random_workflow'
  | 'jobs_hot_deep_pages';

interface Scenario {
  name: ScenarioName;
  request: string;
  paths: string[];
}

interface Walk {
  ids: string[];
  /** The next_cursor of every page but the last, with how many rows precede it. */
  cursors: { cursor: string; depth: number }[];
  pages: number;
}

/** Follows next_cursor from the first page to the last. */
async function walk(client: ApiClient, base: string): Promise<Walk> {
  const out: Walk = { ids: [], cursors: [], pages: 0 };
  let cursor: string | null = null;
  do {
    const path: string = `${base}?limit=${HARVEST_PAGE}${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`;
    const res = await client.get<{ items: { id: string }[]; next_cursor: string | null }>(path);
    if (res.status !== 200) throw new Error(`GET ${path}: ${res.status} ${JSON.stringify(res.body)}`);
    out.pages++;
    out.ids.push(...res.body.items.map((i) => i.id));
    cursor = res.body.next_cursor;
    if (cursor) out.cursors.push({ cursor, depth: out.ids.length });
  } while (cursor);
  return out;
}

function checkWalk(what: string, got: Walk, expected: readonly string[]): void {
  const want = new Set(expected);
  const seen = new Set(got.ids);
  const foreign = got.ids.filter((id) => !want.has(id));
  if (seen.size !== got.ids.length || got.ids.length !== want.size || foreign.length) {
    throw new Error(
      `${what}: walked ${got.ids.length} rows (${seen.size} distinct, ${foreign.length} not the user's), expected ${want.size}`,
    );
  }
}

interface PlanNode {
  'Node Type': string;
  'Index Name'?: string;
  'Index Cond'?: string;
  Filter?: string;
  'Rows Removed by Filter'?: number;
  'Actual Rows'?: number;
  'Shared Hit Blocks'?: number;
  'Shared Read Blocks'?: number;
  Plans?: PlanNode[];
}

/** EXPLAIN (ANALYZE, BUFFERS) of `query`, boiled down to the plan's shape and cost. */
async function explain(db: Kysely<Database>, query: { compile(): CompiledQuery }) {
  const compiled = query.compile();
  const result = await db.executeQuery<{
    'QUERY PLAN': [{ Plan: PlanNode; 'Planning Time': number; 'Execution Time': number }];
  }>(CompiledQuery.raw(`explain (analyze, buffers, format json) ${compiled.sql}`, [...compiled.parameters]));
  const top = result.rows[0]!['QUERY PLAN'][0];
  const nodes: PlanNode[] = [];
  for (let n: PlanNode | undefined = top.Plan; n; n = n.Plans?.[0]) nodes.push(n);
  const scan = nodes.at(-1)!;
  const filters = nodes.flatMap((n) => (n.Filter ? [n.Filter] : []));
  return {
    plan: nodes
      .map((n) => `${n['Node Type']}${n['Index Name'] ? ` using ${n['Index Name']}` : ''}`)
      .join(' > '),
    index_cond: scan['Index Cond'] ?? null,
    filter: filters.join(' AND ') || null,
    rows_removed_by_filter: nodes.reduce((a, n) => a + (n['Rows Removed by Filter'] ?? 0), 0),
    rows: top.Plan['Actual Rows'] ?? 0,
    shared_blocks: { hit: top.Plan['Shared Hit Blocks'] ?? 0, read: top.Plan['Shared Read Blocks'] ?? 0 },
    planning_ms: round(top['Planning Time'], 3),
    execution_ms: round(top['Execution Time'], 3),
  };
}

/** The two list queries exactly as src/queries/workflows.ts and jobs.ts build them. */
function workflowPage(db: Kysely<Database>, userId: string, cursor?: string) {
  let query = db.selectFrom('workflows').selectAll().where('user_id', '=', userId);
  if (cursor) {
    const [at, id] = decodeCursor(cursor, ['date', 'string']);
    query = query.where(sql<boolean>`(created_at, id) < (${at}, ${id})`);
  }
  return query
    .orderBy('created_at', 'desc')
    .orderBy('id', 'desc')
    .limit(PAGE + 1);
}

function jobPage(db: Kysely<Database>, userId: string, workflowId: string, cursor?: string) {
  let query = db
    .selectFrom('jobs')
    .selectAll()
    .where('workflow_id', '=', workflowId)
    .where('user_id', '=', userId);
  if (cursor) {
    const [at, id] = decodeCursor(cursor, ['date', 'string']);
    query = query.where(sql<boolean>`(created_at, id) < (${at}, ${id})`);
  }
  return query
    .orderBy('created_at', 'desc')
    .orderBy('id', 'desc')
    .limit(PAGE + 1);
}

function summary(r: LoadResult) {
  return {
    sent: r.sent,
    completed: r.completed,
    ok: r.ok,
    errors: r.errors,
    error_kinds: r.error_kinds,
    achieved_per_s: r.achieved_per_s,
    latency: r.latency,
    send_lag: r.send_lag,
    mean_response_bytes: r.mean_response_bytes,
    distinct_paths: r.distinct_paths,
  };
}

async function measure(
  scenarios: readonly Scenario[],
  baseUrl: string,
  token: string,
  shape: Shape,
  progress: Progress,
) {
  const out: Partial<Record<ScenarioName, ReturnType<typeof summary> & { request: string }>> = {};
  for (const s of scenarios) {
    progress(`api_reads: ${s.name}: ${s.request} at ${shape.rate}/s for ${shape.durationMs / 1000}s`);
    const r = await runLoadProcess({
      baseUrl,
      token,
      paths: s.paths,
      rate: shape.rate,
      durationMs: shape.durationMs,
      warmupMs: shape.warmupMs,
      connections: CONNECTIONS,
      timeoutMs: TIMEOUT_MS,
    });
    out[s.name] = { request: s.request, ...summary(r) };
    progress(
      `api_reads: ${s.name}: ${r.achieved_per_s}/s, p50 ${r.latency.p50_ms} ms, p99 ${r.latency.p99_ms} ms, ${r.errors} errors`,
    );
  }
  return out as Record<ScenarioName, ReturnType<typeof summary> & { request: string }>;
}

export const apiReadsBenchmark: Benchmark = {
  name: 'api_reads',
  description: 'GET /workflows and /workflows/{id}/jobs at a fixed rate from a separate load process',
  async run(scale, progress) {
    const shape = shapes[scale];
    const random = prng(7);
    // API and projector only: the rows are seeded straight into the read model with no actors behind them,
    // so a scheduler in the same process would spend itself on workflows it cannot fire.
    const system = await startBenchSystem('api_reads', progress, {}, 'api,projector');
    let db: Kysely<Database> | undefined;
    try {
      const client = new ApiClient(system.baseUrl);
      const userId = await client.signUp('bench@example.com');
      db = connectPostgres(system.dbs.config.DATABASE_URL, 4);
      const reader = db;
      // The projector writes the user's rows from its RegisterUser event; seeding waits for them, so
      // the projector's upsert cannot replace the user_stats row written below.
      await waitUntil(
        'the user in the read model',
        async () =>
          (await reader
            .selectFrom('user_stats')
            .select('user_id')
            .where('user_id', '=', userId)
            .executeTakeFirst()) !== undefined,
        30_000,
      );
      progress(
        `api_reads: seeding ${shape.workflows} workflows, ${shape.jobs} jobs (+ ${shape.otherWorkflows} workflows of another user)`,
      );
      const seeded = await seedReadModel(db, userId, shape);
      const analyzeStarted = performance.now();
      await sql`analyze`.execute(db);
      const analyzeMs = round(performance.now() - analyzeStarted, 1);
      progress(`api_reads: seeded in ${round(seeded.duration_ms / 1000, 1)}s, analyzed in ${analyzeMs} ms`);

      // Every row of the user's is reachable through the API, and no other user's.
      const harvestStarted = performance.now();
      const workflowWalk = await walk(client, '/workflows');
      checkWalk('GET /workflows', workflowWalk, seeded.workflowIds);
      const hotWalk = await walk(client, `/workflows/${seeded.hotWorkflowId}/jobs`);
      if (hotWalk.ids.length !== shape.hotJobs || new Set(hotWalk.ids).size !== shape.hotJobs) {
        throw new Error(`the hot workflow's jobs: walked ${hotWalk.ids.length}, expected ${shape.hotJobs}`);
      }
      const foreign = await client.get(`/workflows/${seeded.otherWorkflowIds[0]}/jobs?limit=${PAGE}`);
      if (foreign.status !== 404)
        throw new Error(`another user's workflow's jobs: ${foreign.status}, not 404`);
      const harvestMs = round(performance.now() - harvestStarted, 1);

      const ordinary = seeded.workflowIds.filter((id) => id !== seeded.hotWorkflowId);
      const scenarios: Scenario[] = [
        { name: 'healthz', request: 'GET /healthz', paths: ['/healthz'] },
        {
          name: 'workflows_first_page',
          request: `GET /workflows?limit=${PAGE}`,
          paths: [`/workflows?limit=${PAGE}`],
        },
        {
          name: 'workflows_deep_pages',
          request: `GET /workflows?limit=${PAGE}&cursor=… (harvested cursors, every depth)`,
          paths: shuffled(workflowWalk.cursors, random).map(
            (c) => `/workflows?limit=${PAGE}&cursor=${c.cursor}`,
          ),
        },
        {
          name: 'jobs_random_workflow',
          request: `GET /workflows/{id}/jobs?limit=${PAGE} (a random workflow each time)`,
          paths: shuffled(ordinary, random).map((id) => `/workflows/${id}/jobs?limit=${PAGE}`),
        },
        {
          name: 'jobs_hot_deep_pages',
          request: `GET /workflows/{hot}/jobs?limit=${PAGE}&cursor=… (the hot workflow, harvested cursors)`,
          paths: shuffled(hotWalk.cursors, random).map(
            (c) => `/workflows/${seeded.hotWorkflowId}/jobs?limit=${PAGE}&cursor=${c.cursor}`,
          ),
        },
      ];
      const results = await measure(scenarios, system.baseUrl, client.token!, shape, progress);

      // Plans of the same queries, at a representative point (the middle cursor, a random workflow).
      const middle = <T>(items: readonly T[]) => items[Math.floor(items.length / 2)]!;
      const plans = {
        workflows_first_page: await explain(db, workflowPage(db, userId)),
        workflows_deep_pages: await explain(
          db,
          workflowPage(db, userId, middle(workflowWalk.cursors).cursor),
        ),
        jobs_random_workflow: await explain(db, jobPage(db, userId, middle(ordinary))),
        jobs_hot_deep_pages: await explain(
          db,
          jobPage(db, userId, seeded.hotWorkflowId, middle(hotWalk.cursors).cursor),
        ),
      };

      const baseline = results.healthz;
      const apiScenarios = scenarios.map((s) => s.name).filter((n) => n !== 'healthz');
      const judged = shape.rate === TARGET.rate_per_s;
      const verdicts = Object.fromEntries(
        apiScenarios.map((n) => {
          const r = results[n];
          const met =
            r.latency.p99_ms < TARGET.p99_below_ms &&
            r.errors === 0 &&
            r.achieved_per_s >= MIN_ACHIEVED_SHARE * TARGET.rate_per_s;
          return [
            n,
            {
              p99_ms: r.latency.p99_ms,
              errors: r.errors,
              achieved_per_s: r.achieved_per_s,
              met: judged ? met : null,
            },
          ];
        }),
      );
      const depths = (w: Walk) => ({
        cursors: w.cursors.length,
        rows_before_min: w.cursors[0]?.depth ?? 0,
        rows_before_max: w.cursors.at(-1)?.depth ?? 0,
      });
      return {
        runs: 1,
        data: {
          seeded:
            'directly into the read model tables (multi-row INSERTs in created_at order), not through the event log; the list routes read only these tables',
          user: {
            workflows: shape.workflows,
            jobs: shape.jobs,
            hot_workflow_jobs: shape.hotJobs,
            jobs_per_other_workflow: seeded.jobs_per_workflow,
          },
          other_user: {
            workflows: shape.otherWorkflows,
            jobs: shape.otherWorkflows * shape.otherJobsPerWorkflow,
          },
          rows: seeded.rows,
          timestamps: seeded.timestamps,
          seed_ms: seeded.duration_ms,
          analyze_ms: analyzeMs,
        },
        api: {
          process: 'chronoverse api,projector (no scheduler or executor) as a child process, on this machine',
          database_pool_size: system.dbs.config.DATABASE_POOL_SIZE,
        },
        load: {
          process: 'bench/support/load-generator.ts, a separate Node process per scenario',
          client: 'node:http, one keep-alive Agent',
          connections: CONNECTIONS,
          model:
            'open: request i sent at start + i/rate whatever the answers; latency from that scheduled time',
          rate_per_s: shape.rate,
          duration_ms: shape.durationMs,
          warmup_ms: shape.warmupMs,
          timeout_ms: TIMEOUT_MS,
        },
        harvest: {
          page_size: HARVEST_PAGE,
          duration_ms: harvestMs,
          workflows: depths(workflowWalk),
          hot_workflow_jobs: depths(hotWalk),
          checked:
            "every workflow of the user's and every job of the hot workflow walked exactly once, none of the other user's; the other user's workflow answers 404",
        },
        scenarios: results,
        ratios: Object.fromEntries(
          apiScenarios.map((n) => [
            n,
            {
              p50_vs_healthz: round(results[n].latency.p50_ms / baseline.latency.p50_ms, 1),
              p99_vs_healthz: round(results[n].latency.p99_ms / baseline.latency.p99_ms, 1),
            },
          ]),
        ),
        target: {
          ...TARGET,
          measured_at_rate_per_s: shape.rate,
          judged,
          ...(judged
            ? {}
            : { note: `scale ${scale} runs at ${shape.rate}/s: the target is judged at full scale only` }),
          met: judged ? Object.values(verdicts).every((v) => v.met) : null,
          scenarios: verdicts,
        },
        plans,
      };
    } finally {
      await db?.destroy();
      await system.dispose();
    }
  },
};
