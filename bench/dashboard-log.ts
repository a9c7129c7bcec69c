// The job page's log viewer in a real browser (issue 13, item 4): how long the page takes to load, how
// late a line the container writes appears in the page, and how much memory the browser holds with a
// 100,000-line log open. Debian's Chromium driven by playwright-core (test/web/browser.ts), against
// `chronoverse api` (test/support/system.ts) with `chronoverse scheduler`, `projector` and `executor`
// as their own processes (bench/support/role-processes.ts), on a private nats-server and fresh
// databases, like sse_latency.
//
// - Page load: a finished job of 20 lines, opened in a new tab `loads` times (the first with a cold
//   cache): Navigation Timing (first byte, DOMContentLoaded, load) and the time until its lines are
//   in and its `end` arrived (`#log[data-ended]`), all from the navigation's start.
// - Write to screen: a container writes a line every `gapMs`, each stamped with the kernel clock
//   (adjtimex, µs; busybox `date` has no %N) just before it is written, while the job page is open and
//   following. A MutationObserver in the page notes when each line's row is first in the DOM (the
//   viewer renders on the animation frame after a line arrives; the paint is the same frame). Same
//   host, same clock: the latency is the row's time minus the stamp.
// - Memory: a finished job of `bigLines` lines (`seq`), its page opened and loaded to `end`; then a
//   forced GC (CDP HeapProfiler.collectGarbage) and CDP Performance.getMetrics (JS heap, DOM nodes)
//   and the resident memory of the browser's processes from /proc (the renderer of the page; all of
//   them). The same figures with a 20-line job's page open are the baseline.
import { readdir, readFile } from 'node:fs/promises';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { waitUntil } from '../src/stack/process-control.ts';
import { ApiClient, type TestSystem } from '../test/support/system.ts';
import { CHROMIUM, hasChromium, launchBrowser, NO_CHROMIUM } from '../test/web/browser.ts';
import { startBenchSystem } from './support/api-system.ts';
import type { Benchmark, Progress, Scale } from './support/benchmark.ts';
import { type BenchRole, startBenchRole } from './support/role-processes.ts';
import { latency, median, round } from './support/stats.ts';

interface Shape {
  bigLines: number;
  stampedLines: number;
  gapMs: number;
  loads: number;
}

const shapes: Record<Scale, Shape> = {
  full: { bigLines: 100_000, stampedLines: 40, gapMs: 250, loads: 6 },
  small: { bigLines: 10_000, stampedLines: 10, gapMs: 250, loads: 3 },
};

const IMAGE = 'chronoverse/busybox:local';
const PASSWORD = 'correct horse battery staple';
/** Issue 13's targets: a line on screen within 300 ms (median), the page under 200 MiB with 100,000 lines. */
const TARGET = { write_to_screen_p50_below_ms: 300, renderer_rss_below_mib: 200 };
/** The stamped writer waits this long before its first line, so the page is open and following. */
const LEAD_S = 4;

/** Records, in every page of the context from its start, when rows first appear and when the log ends. */
const RECORDER = `
  window.cvBench = { seen: {}, firstRowAt: null, endedAt: null, maxRows: 0 };
  document.addEventListener('DOMContentLoaded', () => {
    const log = document.getElementById('log');
    if (!log) return;
    const b = window.cvBench;
    new MutationObserver(() => {
      const now = performance.timeOrigin + performance.now();
      const rows = log.querySelectorAll('.ln');
      if (rows.length && b.firstRowAt === null) b.firstRowAt = performance.now();
      b.maxRows = Math.max(b.maxRows, rows.length);
      for (const r of rows) {
        const n = r.dataset.line;
        if (n && !(n in b.seen)) b.seen[n] = [now, r.querySelector('.msg').textContent];
      }
      if (log.dataset.ended && b.endedAt === null) b.endedAt = performance.now();
    }).observe(log, { childList: true, subtree: true, attributes: true, attributeFilter: ['data-ended'] });
  });
`;

/** A line every gapMs, "<µs since the epoch> <i>", the stamp read just before the line is written. */
function stampedCmd(s: Shape): string[] {
  const script = [
    `sleep ${LEAD_S}`,
    // adjtimex prints "time.tv_sec: <s>" and "time.tv_usec: <µs>": t is µs since the epoch.
    // biome-ignore lint/suspicious/noTemplateCurlyInString: shell parameter expansions, not a template
    'now() { o=$(adjtimex); x=${o##*tv_sec:}; x=${x#"${x%%[0-9]*}"}; s=${x%%[!0-9]*}; x=${o##*tv_usec:}; x=${x#"${x%%[0-9]*}"}; u=${x%%[!0-9]*}; t=$((s*1000000+u)); }',
    `i=1; while [ $i -le ${s.stampedLines} ]; do now; echo "$t $i"; i=$((i+1)); usleep ${s.gapMs * 1000}; done`,
  ].join('\n');
  return ['sh', '-c', script];
}

async function createWorkflow(client: ApiClient, name: string, cmd: string[]): Promise<string> {
  const res = await client.post<{ id: string }>('/workflows', {
    name,
    kind: 'CONTAINER',
    payload: { image: IMAGE, cmd, timeout: '5m' },
    interval: 10_080,
  });
  if (res.status !== 201) throw new Error(`POST /workflows: ${res.status} ${JSON.stringify(res.body)}`);
  const id = res.body.id;
  await waitUntil(
    `${name} built`,
    async () =>
      (await client.get<{ build_status: string }>(`/workflows/${id}`)).body.build_status === 'COMPLETED',
    90_000,
  );
  return id;
}

async function runNow(client: ApiClient, workflowId: string): Promise<string> {
  const res = await client.post<{ job_id: string }>(`/workflows/${workflowId}/jobs/schedule`);
  if (res.status !== 201) throw new Error(`run now: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body.job_id;
}

/** Runs the workflow now and waits until its job is COMPLETED with `lines` lines stored. */
async function runToEnd(client: ApiClient, workflowId: string, lines: number): Promise<string> {
  const jobId = await runNow(client, workflowId);
  const base = `/workflows/${workflowId}/jobs/${jobId}`;
  let status = '';
  await waitUntil(
    'job final',
    async () => {
      status = (await client.get<{ status: string }>(base)).body.status;
      return ['COMPLETED', 'FAILED', 'CANCELED'].includes(status);
    },
    120_000,
  );
  if (status !== 'COMPLETED') throw new Error(`job ${jobId} ended ${status}`);
  let stored = 0;
  await waitUntil(
    'its lines stored',
    async () => {
      const page = await client.get<{ items: { sequence_num: number }[] }>(`${base}/logs?limit=1`);
      stored = page.body.items[0]?.sequence_num ?? 0;
      return stored >= lines;
    },
    60_000,
  ).catch(() => {
    throw new Error(`job ${jobId}: ${stored} of ${lines} lines stored`);
  });
  return jobId;
}

// ---- the browser's processes ----------------------------------------------------------------------

interface Proc {
  pid: number;
  ppid: number;
  args: string[];
}

async function processes(): Promise<Proc[]> {
  const out: Proc[] = [];
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = await readFile(`/proc/${entry}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      const args = (await readFile(`/proc/${entry}/cmdline`, 'utf8')).split('\0').filter(Boolean);
      out.push({ pid: Number(entry), ppid, args });
    } catch {
      // gone meanwhile
    }
  }
  return out;
}

/** Resident (VmRSS) and proportional (Pss: shared pages split among their sharers) memory, MiB. */
async function memOf(pid: number): Promise<{ rss: number; pss: number }> {
  try {
    const rss = /^VmRSS:\s+(\d+)\s+kB/m.exec(await readFile(`/proc/${pid}/status`, 'utf8'))?.[1];
    const pss = /^Pss:\s+(\d+)\s+kB/m.exec(await readFile(`/proc/${pid}/smaps_rollup`, 'utf8'))?.[1];
    return { rss: Number(rss ?? 0) / 1024, pss: Number(pss ?? 0) / 1024 };
  } catch {
    return { rss: 0, pss: 0 };
  }
}

/**
 * Memory (MiB) of the Chromium this process launched: its renderer (one tab is open; the largest
 * renderer is that tab's) and every process of it together (Pss, so shared pages count once).
 */
async function browserMemory() {
  const all = await processes();
  // /usr/bin/chromium is a wrapper that execs the binary (/usr/lib/chromium/chromium): same pid.
  const roots = all.filter((p) => p.ppid === process.pid && /chrom/.test(p.args[0] ?? ''));
  const mine = new Set(roots.map((p) => p.pid));
  for (let grew = true; grew; ) {
    grew = false;
    for (const p of all)
      if (!mine.has(p.pid) && mine.has(p.ppid)) {
        mine.add(p.pid);
        grew = true;
      }
  }
  const ours = all.filter((p) => mine.has(p.pid));
  // A process the zygote forked names itself in one string: its arguments are not split by NULs.
  const renderers = ours.filter((p) => p.args.join(' ').includes('--type=renderer'));
  const mem = await Promise.all(ours.map((p) => memOf(p.pid)));
  const rendererMem = await Promise.all(renderers.map((p) => memOf(p.pid)));
  const largest = rendererMem.reduce((a, b) => (b.rss > a.rss ? b : a), { rss: 0, pss: 0 });
  return {
    renderer_rss_mib: round(largest.rss, 1),
    renderer_pss_mib: round(largest.pss, 1),
    renderers: renderers.length,
    browser_processes: ours.length,
    all_pss_mib: round(
      mem.reduce((a, b) => a + b.pss, 0),
      1,
    ),
  };
}

/** After a forced GC: the page's JS heap and DOM, and the browser's resident memory. */
async function memoryOf(context: BrowserContext, page: Page) {
  const cdp = await context.newCDPSession(page);
  try {
    await cdp.send('HeapProfiler.enable');
    await cdp.send('HeapProfiler.collectGarbage');
    await cdp.send('Performance.enable');
    const { metrics } = await cdp.send('Performance.getMetrics');
    const m = Object.fromEntries(metrics.map((x) => [x.name, x.value]));
    const mib = (bytes: number | undefined) => round((bytes ?? 0) / 2 ** 20, 1);
    return {
      js_heap_used_mib: mib(m.JSHeapUsedSize),
      js_heap_total_mib: mib(m.JSHeapTotalSize),
      dom_nodes: m.Nodes ?? null,
      log_rows_in_dom: (await page.evaluate(`document.querySelectorAll('#log .ln').length`)) as number,
      ...(await browserMemory()),
    };
  } finally {
    await cdp.detach().catch(() => {});
  }
}

// ---- the measurements -----------------------------------------------------------------------------

interface PageTimes {
  first_byte_ms: number;
  response_end_ms: number;
  /** The last of the page's static files (style sheets, scripts) received. */
  assets_loaded_ms: number;
  dom_content_loaded_ms: number;
  load_ms: number;
  first_row_ms: number | null;
  log_ended_ms: number | null;
  /** The renderer's main thread until then (CDP Performance metrics): running scripts, style, layout, all tasks. */
  script_ms: number;
  style_ms: number;
  layout_ms: number;
  task_ms: number;
}

/** Opens `url` in a new tab, waits for the log's end; times from the navigation's start. */
async function openJobPage(context: BrowserContext, url: string, timeoutMs: number) {
  const page = await context.newPage();
  const cdp = await context.newCDPSession(page);
  await cdp.send('Performance.enable');
  await page.goto(url);
  await page.waitForSelector('#log[data-ended]', { timeout: timeoutMs });
  const { metrics } = await cdp.send('Performance.getMetrics');
  await cdp.detach().catch(() => {});
  const m = Object.fromEntries(metrics.map((x) => [x.name, x.value]));
  const t = (await page.evaluate(`(() => {
    const n = performance.getEntriesByType('navigation')[0];
    const assets = performance.getEntriesByType('resource').filter((r) => r.name.includes('/assets/') && !r.name.includes('favicon'));
    return {
      first_byte_ms: n.responseStart,
      response_end_ms: n.responseEnd,
      assets_loaded_ms: Math.max(0, ...assets.map((r) => r.responseEnd)),
      dom_content_loaded_ms: n.domContentLoadedEventEnd,
      load_ms: n.loadEventEnd,
      first_row_ms: window.cvBench.firstRowAt,
      log_ended_ms: window.cvBench.endedAt,
    };
  })()`)) as PageTimes;
  const seconds = (k: string) => (m[k] ?? 0) * 1000;
  const times = Object.fromEntries(
    Object.entries({
      ...t,
      script_ms: seconds('ScriptDuration'),
      style_ms: seconds('RecalcStyleDuration'),
      layout_ms: seconds('LayoutDuration'),
      task_ms: seconds('TaskDuration'),
    }).map(([k, v]) => [k, v === null ? null : round(v, 1)]),
  ) as unknown as PageTimes;
  return { page, times };
}

async function pageLoads(context: BrowserContext, url: string, s: Shape, progress: Progress) {
  const runs: PageTimes[] = [];
  for (let k = 0; k < s.loads; k++) {
    const { page, times } = await openJobPage(context, url, 30_000);
    runs.push(times);
    await page.close();
  }
  progress(`dashboard_log: ${s.loads} loads of a 20-line job page, first ${JSON.stringify(runs[0])}`);
  const warm = runs.slice(1);
  const med = (k: keyof PageTimes) => round(median(warm.map((r) => r[k] ?? 0)), 1);
  const keys = Object.keys(runs[0]!) as (keyof PageTimes)[];
  return {
    what: 'a finished 20-line job page in a new tab, ms from the navigation start: first byte, the static files, DOMContentLoaded, load, the first log row in the DOM, the log complete (`end`); and the main thread busy until then',
    cold: runs[0],
    warm_median: Object.fromEntries(keys.map((k) => [k, med(k)])),
    runs,
  };
}

async function writeToScreen(
  context: BrowserContext,
  client: ApiClient,
  system: TestSystem,
  workflowId: string,
  s: Shape,
  progress: Progress,
) {
  const jobId = await runNow(client, workflowId);
  const { page } = await openJobPage(
    context,
    `${system.baseUrl}/w/${workflowId}/jobs/${jobId}`,
    (LEAD_S + (s.stampedLines * s.gapMs) / 1000) * 1000 + 120_000,
  );
  const seen = (await page.evaluate('window.cvBench.seen')) as Record<string, [number, string]>;
  await page.close();
  const samples: number[] = [];
  let wrong = 0;
  for (const [n, [at, message]] of Object.entries(seen)) {
    const [stamp, i] = message.split(' ');
    if (i !== n) wrong += 1;
    else samples.push(at - Number(stamp) / 1000);
  }
  progress(`dashboard_log: ${samples.length} stamped lines seen, p50 ${round(median(samples), 1)} ms`);
  return {
    what: `a line every ${s.gapMs} ms stamped by the container (adjtimex, µs) just before it is written, to its row's first time in the DOM of the open, following job page (MutationObserver; performance.timeOrigin + now), ms`,
    lines_written: s.stampedLines,
    lines_seen: samples.length,
    lines_out_of_place: wrong,
    ...latency(samples),
    mean_ms: round(samples.reduce((a, b) => a + b, 0) / Math.max(1, samples.length), 1),
    samples_ms: samples.map((x) => round(x, 1)),
  };
}

async function memory(
  context: BrowserContext,
  system: TestSystem,
  small: string,
  big: string,
  s: Shape,
  progress: Progress,
) {
  const baseline = await openJobPage(context, `${system.baseUrl}${small}`, 30_000);
  const before = await memoryOf(context, baseline.page);
  await baseline.page.close();
  const t0 = performance.now();
  const opened = await openJobPage(context, `${system.baseUrl}${big}`, 300_000);
  const loadedMs = round(performance.now() - t0, 0);
  const lines = Number(await opened.page.getAttribute('#log', 'data-lines'));
  const maxRows = (await opened.page.evaluate('window.cvBench.maxRows')) as number;
  // Scrolled to the middle and back: the rows rendered there are the window's, not more.
  await opened.page.evaluate(`(async () => {
    const box = document.getElementById('log');
    const frame = () => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r)));
    box.scrollTop = box.scrollHeight / 2; await frame();
    box.scrollTop = 0; await frame();
    box.scrollTop = box.scrollHeight; await frame();
  })()`);
  const after = await memoryOf(context, opened.page);
  await opened.page.close();
  progress(`dashboard_log: ${lines} lines loaded in ${loadedMs} ms; ${JSON.stringify(after)}`);
  return {
    what: `the job page with a finished ${s.bigLines.toLocaleString('en')}-line log (seq) open and loaded to its end, after a forced GC; baseline: a 20-line job's page`,
    lines_loaded: lines,
    open_to_all_lines_ms: loadedMs,
    page_times: opened.times,
    max_log_rows_in_dom: maxRows,
    baseline: before,
    with_log: after,
  };
}

export const dashboardLogBenchmark: Benchmark = {
  name: 'dashboard_log',
  description:
    'the job page log viewer in Chromium: page load, write-to-screen latency, memory with 100,000 lines open',
  async run(scale, progress) {
    if (!hasChromium) throw new Error(NO_CHROMIUM);
    const s = shapes[scale];
    const system = await startBenchSystem('dashboard_log', progress, {}, 'api');
    const roles: Record<string, BenchRole> = {};
    let browser: Browser | undefined;
    try {
      roles.scheduler = await startBenchRole('scheduler', system.dbs.config);
      roles.projector = await startBenchRole('projector', system.dbs.config);
      roles.executor = await startBenchRole('executor', system.dbs.config, {
        CV_EXECUTOR_ID: 'bench-dashboard-log',
      });
      browser = await launchBrowser();
      const version = browser.version();
      progress(
        `dashboard_log: chronoverse api, scheduler, projector, executor and Chromium ${version} ready`,
      );

      const client = new ApiClient(system.baseUrl);
      const email = 'dashboard.log@example.com';
      await client.signUp(email, PASSWORD);
      const [smallWf, bigWf, stampedWf] = await Promise.all([
        createWorkflow(client, 'twenty lines', ['seq', '1', '20']),
        createWorkflow(client, 'big log', ['seq', '1', String(s.bigLines)]),
        createWorkflow(client, 'stamped lines', stampedCmd(s)),
      ]);
      const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
      await context.addInitScript(RECORDER);
      const login = await context.newPage();
      await login.goto(`${system.baseUrl}/login`);
      await login.fill('#email', email);
      await login.fill('#password', PASSWORD);
      await Promise.all([login.waitForURL(`${system.baseUrl}/`), login.click('button[type=submit]')]);
      await login.close();

      const smallPath = `/w/${smallWf}/jobs/${await runToEnd(client, smallWf, 20)}`;
      const loads = await pageLoads(context, `${system.baseUrl}${smallPath}`, s, progress);
      const screen = await writeToScreen(context, client, system, stampedWf, s, progress);
      const bigPath = `/w/${bigWf}/jobs/${await runToEnd(client, bigWf, s.bigLines)}`;
      const mem = await memory(context, system, smallPath, bigPath, s, progress);
      await context.close();

      const judged = scale === 'full';
      return {
        runs: 1,
        workload: {
          image: IMAGE,
          big_log: `seq 1 ${s.bigLines}`,
          stamped: { lines: s.stampedLines, gap_ms: s.gapMs, cmd: stampedCmd(s) },
          page_loads: s.loads,
        },
        system: {
          processes:
            'chronoverse api (test/support/system.ts, log level warn), chronoverse scheduler, projector, executor as separate processes, private nats-server',
          browser: `Chromium ${version} (${CHROMIUM}, headless, playwright-core), viewport 1280x900, one tab at a time`,
        },
        page_load: loads,
        write_to_screen: screen,
        memory: mem,
        target: {
          ...TARGET,
          write_to_screen_p50_ms: screen.p50_ms,
          renderer_rss_mib: mem.with_log.renderer_rss_mib,
          js_heap_used_mib: mem.with_log.js_heap_used_mib,
          judged,
          met: judged
            ? screen.p50_ms < TARGET.write_to_screen_p50_below_ms &&
              mem.with_log.renderer_rss_mib < TARGET.renderer_rss_below_mib &&
              mem.lines_loaded === s.bigLines &&
              screen.lines_seen === s.stampedLines
            : null,
        },
        role_log_problems: Object.fromEntries(Object.values(roles).map((r) => [r.role, r.problems()])),
      };
    } finally {
      await browser?.close().catch(() => {});
      for (const r of Object.values(roles).reverse()) await r.stop();
      await system.dispose();
    }
  },
};
