// The job page's log viewer in real Chromium against a real `chronoverse all` process, with CONTAINER
// jobs on the local busybox image: a 100,000-line log (`seq`) keeps fewer than 1,000 rows in the DOM
// and shows the right lines wherever it is scrolled; search goes over every line with next/previous;
// #L<n> opens at that line; the stdout/stderr filter; the raw download; a connection cut mid-stream
// (a TCP proxy between the browser and the API drops every socket) resumes with Last-Event-ID, every
// line once and in order; HTML and ANSI escapes in the output stay text.
import { readFile } from 'node:fs/promises';
import { createServer, type Server, type Socket, connect as tcpConnect } from 'node:net';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitUntil } from '../../src/stack/process-control.ts';
import { ApiClient, startSystem, type TestSystem } from '../support/system.ts';
import { createContainerWorkflow, runNow as runJobNow, waitForJob } from '../support/workflow-api.ts';
import {
  collectErrors,
  hasChromium,
  launchBrowser,
  NO_CHROMIUM,
  PASSWORD,
  screenshot,
  untilLogEnds,
} from './browser.ts';

if (!hasChromium) console.warn(NO_CHROMIUM);

const XSS = '<img src=x onerror=alert(1)>';
const BIG = 100_000;
/** The mixed job: this many stdout lines and as many stderr lines, then the hostile lines. */
const PAIRS = 300;
/** The slow job: this many lines, one every few milliseconds, so the stream can be cut mid-way. */
const SLOW = 1200;

let system: TestSystem;
let browser: Browser;
let api: ApiClient;
let context: BrowserContext;

const workflows = { big: '', mixed: '', slow: '' };

const containerWorkflow = (name: string, script: string) =>
  createContainerWorkflow(api, name, ['sh', '-c', script], { timeout: '2m', buildWithinMs: 90_000 });

/** Runs the workflow now; the job page's path. */
async function runNow(workflowId: string): Promise<string> {
  return `/w/${workflowId}/jobs/${await runJobNow(api, workflowId)}`;
}

/**
 * Runs the workflow now and waits until its job is final with all its lines stored: the page is
 * opened on a finished log. (While a job runs, its lines reach the page live: see the dropped-stream
 * test.) A job that ends with fewer lines stored than it wrote fails here, naming how many.
 */
async function runToEnd(workflowId: string, lines: number): Promise<string> {
  const path = await runNow(workflowId);
  const [, , , , jobId] = path.split('/');
  const base = `/workflows/${workflowId}/jobs/${jobId}`;
  const status = await waitForJob(api, workflowId, jobId ?? '', undefined, 90_000);
  expect(status).toBe('COMPLETED');
  let stored = 0;
  await waitUntil(
    'its lines stored',
    async () => {
      const page = await api.get<{ items: { sequence_num: number }[] }>(`${base}/logs?limit=1`);
      stored = page.body.items[0]?.sequence_num ?? 0;
      return stored >= lines;
    },
    30_000,
  ).catch(() => {
    throw new Error(`the executor stored ${stored} of the job's ${lines} lines`);
  });
  return path;
}

/** Rows wholly inside the log's visible area, as [line number, text]. */
const VISIBLE_ROWS = `(() => {
  const box = document.getElementById('log');
  const top = box.getBoundingClientRect().top + box.clientTop;
  const bottom = top + box.clientHeight;
  return [...box.querySelectorAll('.ln')]
    .filter((r) => { const b = r.getBoundingClientRect(); return b.top >= top - 1 && b.bottom <= bottom + 1; })
    .map((r) => [Number(r.querySelector('.no').textContent), r.querySelector('.msg').textContent]);
})()`;

const visibleRows = async (page: Page) => (await page.evaluate(VISIBLE_ROWS)) as [number, string][];

/**
 * Until the log's scroll position has settled (keyboard and wheel scrolling are animated) and the
 * viewer has rendered it (on the next animation frame after a scroll).
 */
const frames = (page: Page) =>
  page.evaluate(`(async () => {
    const box = document.getElementById('log');
    const frame = () => new Promise((r) => requestAnimationFrame(r));
    for (let still = 0, top = -1; still < 3; ) {
      await frame();
      still = box.scrollTop === top ? still + 1 : 0;
      top = box.scrollTop;
    }
  })()`);

/** Scrolls the whole log top to bottom and collects every row it renders: line number → text. */
const SCAN = `(async () => {
  const box = document.getElementById('log');
  const frame = () => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r)));
  const seen = {};
  box.scrollTop = 0;
  await frame();
  for (;;) {
    for (const r of box.querySelectorAll('.ln')) seen[r.querySelector('.no').textContent] = r.querySelector('.msg').textContent;
    if (box.scrollTop >= box.scrollHeight - box.clientHeight - 1) return seen;
    box.scrollTop += box.clientHeight * 2;
    await frame();
  }
})()`;

/** The largest number of rows the log held at once, recorded by every page of the context from its start. */
const MAX_ROWS_RECORDER = `
  window.cvMaxRows = 0;
  document.addEventListener('DOMContentLoaded', () => {
    const log = document.getElementById('log');
    if (!log) return;
    new MutationObserver(() => {
      window.cvMaxRows = Math.max(window.cvMaxRows, log.querySelectorAll('.ln').length);
    }).observe(log, { childList: true, subtree: true });
  });
`;

interface CuttingProxy {
  readonly url: string;
  /** Destroys every open connection, both sides. */
  cut(): void;
  /** The start of what the browser sent on each connection (request lines and headers). */
  sent(): string;
  close(): Promise<void>;
}

/** A TCP proxy in front of the API whose connections the test can drop, as a network would. */
async function cuttingProxy(target: string): Promise<CuttingProxy> {
  const { hostname, port } = new URL(target);
  const open = new Set<Socket>();
  let sent = '';
  const server: Server = createServer((client) => {
    const upstream = tcpConnect(Number(port), hostname);
    open.add(client);
    open.add(upstream);
    client.on('data', (d: Buffer) => {
      sent += d.toString('latin1', 0, Math.min(d.length, 4096));
    });
    client.pipe(upstream);
    upstream.pipe(client);
    const close = () => {
      open.delete(client);
      open.delete(upstream);
      client.destroy();
      upstream.destroy();
    };
    for (const s of [client, upstream]) {
      s.on('error', close);
      s.on('close', close);
    }
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const address = server.address() as { port: number };
  return {
    url: `http://127.0.0.1:${address.port}`,
    cut() {
      for (const s of open) s.destroy();
      open.clear();
    },
    sent: () => sent,
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}

beforeAll(async () => {
  if (!hasChromium) return;
  [system, browser] = await Promise.all([startSystem(), launchBrowser()]);
  api = new ApiClient(system.baseUrl);
  const email = 'log.viewer@example.com';
  await api.signUp(email, PASSWORD);
  [workflows.big, workflows.mixed, workflows.slow] = await Promise.all([
    containerWorkflow('a hundred thousand lines', `seq 1 ${BIG}`),
    containerWorkflow(
      'both streams',
      `i=1; while [ $i -le ${PAIRS} ]; do echo "out $i"; echo "err $i" >&2; i=$((i+1)); done; ` +
        `echo "${XSS}"; printf '\\033[31mred\\033[0m \\033[1;32mbold green\\033[0m\\n'`,
    ),
    containerWorkflow(
      'slow writer',
      // 20 lines every 100 ms: about 6 s.
      `i=1; while [ $i -le ${SLOW} ]; do echo $i; if [ $((i % 20)) -eq 0 ]; then usleep 100000; fi; i=$((i+1)); done`,
    ),
  ]);
  context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  await context.addInitScript(MAX_ROWS_RECORDER);
  const page = await context.newPage();
  await page.goto(`${system.baseUrl}/login`);
  await page.fill('#email', email);
  await page.fill('#password', PASSWORD);
  await Promise.all([page.waitForURL(`${system.baseUrl}/`), page.click('button[type=submit]')]);
  await page.close();
});

afterAll(async () => {
  await browser?.close();
  await system?.dispose();
});

describe.skipIf(!hasChromium)('the job log viewer in Chromium', () => {
  let bigJob: string;
  let bigPage: Page;
  let bigErrors: string[];

  it('shows a 100,000-line log with fewer than 1,000 rows in the DOM, the right lines wherever it is scrolled', async () => {
    bigJob = await runToEnd(workflows.big, BIG);
    bigPage = await context.newPage();
    bigErrors = collectErrors(bigPage);
    const page = bigPage;
    await page.goto(`${system.baseUrl}${bigJob}`);
    await untilLogEnds(page, 'COMPLETED', 90_000);
    expect(await page.getAttribute('#log', 'data-lines')).toBe(String(BIG));
    expect(await page.textContent('#log-state')).toBe('100,000 lines');
    await frames(page);
    let rows = await visibleRows(page);
    expect(rows.at(-1)).toEqual([BIG, String(BIG)]);
    expect(await page.locator('#log .ln').count()).toBeLessThan(1000);
    expect(await page.evaluate('window.cvMaxRows')).toBeLessThan(1000);
    expect(await page.isHidden('#log-follow')).toBe(true);

    // The middle: the line numbers of the scroll position, each with its own line.
    await page.evaluate(
      `(() => { const b = document.getElementById('log'); b.scrollTop = b.scrollHeight / 2; })()`,
    );
    await frames(page);
    rows = await visibleRows(page);
    expect(rows.length).toBeGreaterThan(10);
    expect(rows[0]![0]).toBeGreaterThanOrEqual(BIG / 2 - 1);
    expect(rows[0]![0]).toBeLessThanOrEqual(BIG / 2 + 2);
    for (const [k, [no, text]] of rows.entries()) expect([no, text]).toEqual([rows[0]![0] + k, String(no)]);
    // Scrolled up by the user: no longer following; Follow brings the tail back.
    expect(await page.isVisible('#log-follow')).toBe(true);

    // By keyboard: the log takes the focus; Home and End go to either end.
    await page.focus('#log');
    await page.keyboard.press('Home');
    await frames(page);
    expect((await visibleRows(page))[0]).toEqual([1, '1']);
    await page.keyboard.press('PageDown');
    await frames(page);
    expect((await visibleRows(page))[0]![0]).toBeGreaterThan(10);
    await page.keyboard.press('End');
    await frames(page);
    expect((await visibleRows(page)).at(-1)).toEqual([BIG, String(BIG)]);
    // A wheel anywhere in the log scrolls it too.
    await page.hover('#log');
    await page.mouse.wheel(0, -3000);
    await expect.poll(() => page.isVisible('#log-follow')).toBe(true);
    await frames(page);
    rows = await visibleRows(page);
    expect(rows[0]![0]).toBeLessThan(BIG - 100);
    for (const [no, text] of rows) expect(text).toBe(String(no));
    await page.click('#log-follow');
    await frames(page);
    expect((await visibleRows(page)).at(-1)).toEqual([BIG, String(BIG)]);
    expect(await page.locator('#log .ln').count()).toBeLessThan(1000);
    await screenshot(page, 'job-log-100k');
  });

  it('searches every line, not only the rendered ones, with next and previous (Enter, Shift+Enter)', async () => {
    const page = bigPage;
    const query = '4242';
    const expected: number[] = [];
    for (let n = 1; n <= BIG; n++) if (String(n).includes(query)) expected.push(n);
    expect(expected.length).toBe(20);
    const current = async () => {
      await frames(page);
      const row = page.locator('#log .ln.current');
      expect(await row.locator('mark.current').textContent()).toBe(query);
      const no = Number(await row.locator('.no').textContent());
      // The current match is scrolled into view.
      expect((await visibleRows(page)).map(([n]) => n)).toContain(no);
      return no;
    };

    await page.fill('#log-search', query);
    await page.press('#log-search', 'Enter');
    // At the end of the log there is no match below: the search starts over from the first.
    await expect.poll(() => page.textContent('#log-matches')).toBe(`1 of ${expected.length}`);
    expect(await current()).toBe(expected[0]);
    await page.press('#log-search', 'Enter');
    await expect.poll(() => page.textContent('#log-matches')).toBe(`2 of ${expected.length}`);
    expect(await current()).toBe(expected[1]);
    await page.click('#log-next');
    expect(await current()).toBe(expected[2]);
    await page.press('#log-search', 'Shift+Enter');
    await page.press('#log-search', 'Shift+Enter');
    await page.press('#log-search', 'Shift+Enter');
    // Before the first: the last.
    expect(await page.textContent('#log-matches')).toBe(`${expected.length} of ${expected.length}`);
    expect(await current()).toBe(expected.at(-1));
    await page.click('#log-prev');
    expect(await current()).toBe(expected.at(-2));
    // Other matches in view are marked too, the current one apart.
    expect(await page.locator('#log mark.hit').count()).toBeGreaterThanOrEqual(1);
    await screenshot(page, 'job-log-search');

    await page.fill('#log-search', 'no such text');
    await expect.poll(() => page.textContent('#log-matches')).toBe('No matches');
    expect(await page.isDisabled('#log-next')).toBe(true);
    await page.fill('#log-search', '');
    await expect.poll(() => page.locator('#log mark').count()).toBe(0);
    expect(await page.locator('#log .ln').count()).toBeLessThan(1000);
  });

  it('opens #L<n> at that line once it has arrived, and a line number sets the address', async () => {
    const page = await context.newPage();
    const errors = collectErrors(page);
    const n = 73_456;
    await page.goto(`${system.baseUrl}${bigJob}#L${n}`);
    const target = page.locator(`#log .ln.target[data-line="${n}"]`);
    await target.waitFor({ timeout: 60_000 });
    await frames(page);
    expect(await target.locator('.msg').textContent()).toBe(String(n));
    let rows = await visibleRows(page);
    expect(rows.map(([no]) => no)).toContain(n);
    // It stays there while the rest of the lines arrive.
    await page.waitForSelector('#log[data-ended]', { timeout: 60_000 });
    await frames(page);
    rows = await visibleRows(page);
    expect(rows.map(([no]) => no)).toContain(n);
    expect(await page.locator('#log .ln.target').count()).toBe(1);

    // A click on another line's number: the address names it and it is the highlighted one.
    const other = rows[2]![0];
    await page.click(`#log .ln[data-line="${other}"] .no`);
    expect(new URL(page.url()).hash).toBe(`#L${other}`);
    await frames(page);
    expect(await page.locator('#log .ln.target').getAttribute('data-line')).toBe(String(other));
    // And the hash changed by hand goes to its line.
    await page.evaluate(`location.hash = '#L12'`);
    await page.locator('#log .ln.target[data-line="12"]').waitFor();
    await frames(page);
    expect((await visibleRows(page)).map(([no]) => no)).toContain(12);
    expect(errors).toEqual([]);
    await page.close();
  });

  it('shows one stream alone with the stdout/stderr filter', async () => {
    const page = await context.newPage();
    const errors = collectErrors(page);
    await page.goto(`${system.baseUrl}${await runNow(workflows.mixed)}`);
    await untilLogEnds(page, 'COMPLETED', 90_000);
    const total = 2 * PAIRS + 2;
    expect(await page.getAttribute('#log', 'data-lines')).toBe(String(total));

    await page.selectOption('#log-stream', 'stderr');
    await frames(page);
    expect(await page.textContent('#log-state')).toBe(`${PAIRS} of ${total} lines`);
    let texts = await page.locator('#log .ln .msg').allTextContents();
    expect(texts.length).toBeGreaterThan(0);
    expect(texts.every((t) => /^err \d+$/.test(t))).toBe(true);
    expect(await page.locator('#log .ln.stdout').count()).toBe(0);
    // Every stderr line is there, in order (each stream is one pipe: its own lines keep their order).
    const seen = Object.values((await page.evaluate(SCAN)) as Record<string, string>);
    expect(seen).toEqual(Array.from({ length: PAIRS }, (_, k) => `err ${k + 1}`));

    await page.selectOption('#log-stream', 'stdout');
    await frames(page);
    texts = await page.locator('#log .ln .msg').allTextContents();
    expect(texts.every((t) => /^out \d+$/.test(t) || t === XSS || t === 'red bold green')).toBe(true);
    expect(await page.locator('#log .ln.stderr').count()).toBe(0);

    // Search within the shown stream only.
    await page.fill('#log-search', 'err ');
    await expect.poll(() => page.textContent('#log-matches')).toBe('No matches');
    await page.selectOption('#log-stream', '');
    await expect.poll(() => page.textContent('#log-matches')).toMatch(new RegExp(`of ${PAIRS}$`));
    expect(await page.textContent('#log-state')).toBe(`${total} lines`);
    expect(errors).toEqual([]);
    await page.close();
  });

  it('downloads the raw log', async () => {
    const page = bigPage;
    expect(await page.isVisible('#log-download')).toBe(true);
    const [download] = await Promise.all([page.waitForEvent('download'), page.click('#log-download')]);
    const path = await download.path();
    const text = await readFile(path, 'utf8');
    expect(text.length).toBe(Array.from({ length: BIG }, (_, k) => `${k + 1}\n`).join('').length);
    expect(text).toBe(Array.from({ length: BIG }, (_, k) => `${k + 1}\n`).join(''));
    expect(download.suggestedFilename()).toMatch(/^job-[0-9a-f-]{36}\.log$/);
    expect(bigErrors).toEqual([]);
    await page.close();
  });

  it('resumes a dropped stream with Last-Event-ID: no line missing, none twice', async () => {
    const proxy = await cuttingProxy(system.baseUrl);
    const page = await context.newPage();
    try {
      const path = await runNow(workflows.slow);
      // While the job runs, its download link waits for the end.
      await page.goto(`${proxy.url}${path}`);
      expect(await page.isHidden('#log-download')).toBe(true);
      await expect
        .poll(async () => Number(await page.getAttribute('#log', 'data-lines')), { timeout: 60_000 })
        .toBeGreaterThanOrEqual(300);
      const before = Number(await page.getAttribute('#log', 'data-lines'));
      expect(await page.getAttribute('#log', 'data-ended')).toBeNull();
      proxy.cut();
      // The browser reconnects by itself (after its default 3 s) and names the last line it had.
      await untilLogEnds(page, 'COMPLETED', 90_000, () => ({
        reconnects: [...proxy.sent().matchAll(/^last-event-id: *(\d+)\r$/gim)].length,
      }));
      const resumedFrom = [...proxy.sent().matchAll(/^last-event-id: *(\d+)\r$/gim)].map((m) => Number(m[1]));
      expect(resumedFrom.length).toBeGreaterThanOrEqual(1);
      expect(resumedFrom[0]).toBeGreaterThanOrEqual(before);
      expect(resumedFrom[0]).toBeLessThan(SLOW);
      expect(await page.getAttribute('#log', 'data-lines')).toBe(String(SLOW));
      const seen = (await page.evaluate(SCAN)) as Record<string, string>;
      expect(Object.keys(seen).length).toBe(SLOW);
      for (let n = 1; n <= SLOW; n++) if (seen[n] !== String(n)) expect([n, seen[n]]).toEqual([n, String(n)]);
      expect(await page.isVisible('#log-download')).toBe(true);
    } finally {
      await page.close();
      proxy.cut();
      await proxy.close();
    }
  });

  it('shows HTML and ANSI escapes in a line as text: no dialog, no injected element, coloured spans', async () => {
    const page = await context.newPage();
    const dialogs: string[] = [];
    page.on('dialog', async (d) => {
      dialogs.push(d.message());
      await d.dismiss();
    });
    const jobs = await api.get<{ items: { id: string }[] }>(`/workflows/${workflows.mixed}/jobs`);
    await page.goto(`${system.baseUrl}/w/${workflows.mixed}/jobs/${jobs.body.items[0]!.id}`);
    await untilLogEnds(page, 'COMPLETED', 60_000);
    // The two lines are the last on stdout (stderr's may come after them: two pipes).
    await page.selectOption('#log-stream', 'stdout');
    await frames(page);
    const texts = await page.locator('#log .ln .msg').allTextContents();
    expect(texts.slice(-2)).toEqual([XSS, 'red bold green']);
    expect(await page.locator('#log .ansi-fg31').textContent()).toBe('red');
    expect(await page.locator('#log .ansi-bold.ansi-fg32').textContent()).toBe('bold green');
    // No escape character reaches the page.
    expect(texts.join('').includes('\u001b')).toBe(false);
    // A search hit inside the hostile line is a mark around text.
    await page.fill('#log-search', 'onerror');
    await expect.poll(() => page.textContent('#log-matches')).toBe('1 of 1');
    expect(await page.locator('#log mark.current').textContent()).toBe('onerror');
    await page.fill('#log-search', 'green');
    await expect.poll(() => page.locator('#log mark.current .ansi-fg32').textContent()).toBe('green');
    await new Promise((r) => setTimeout(r, 300));
    expect(await page.locator('img').count()).toBe(0);
    expect(dialogs).toEqual([]);
    await screenshot(page, 'job-log-escapes');
    await page.close();
  });
});
