// The dashboard's remaining pages and promises in real Chromium against a real `chronoverse all`:
// analytics drawn from the API's JSON with a table of the same numbers; the audit history growing
// live; delete with confirmation; a notification arriving live when repeated failures terminate a
// workflow; keyboard shortcuts and <time>; and every page, light and dark, checked with axe-core
// (no serious or critical violation) and captured as a screenshot.
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitUntil } from '../../src/stack/process-control.ts';
import { TEST_IMAGE } from '../support/executor-harness.ts';
import { startSystem, type TestSystem } from '../support/system.ts';
import {
  apiFromPage as api,
  collectErrors,
  hasChromium,
  launchBrowser,
  NO_CHROMIUM,
  screenshot,
  signUp as signUpAt,
} from './browser.ts';

if (!hasChromium) console.warn(NO_CHROMIUM);

const AXE_SOURCE = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');

let system: TestSystem;
const signUp = (page: Page, email: string) => signUpAt(page, system.baseUrl, email);
let browser: Browser;
let endpoint: Server;
let okUrl: string;
let failingUrl: string;

async function jobEnded(page: Page, workflowId: string, jobId: string): Promise<string> {
  let status = '';
  await waitUntil(
    'job ended',
    async () => {
      status = (await api<{ status: string }>(page, 'GET', `/workflows/${workflowId}/jobs/${jobId}`)).body
        .status;
      return ['COMPLETED', 'FAILED', 'CANCELED'].includes(status);
    },
    60_000,
  );
  return status;
}

async function runNow(page: Page, workflowId: string): Promise<string> {
  const res = await api<{ job_id: string }>(page, 'POST', `/workflows/${workflowId}/jobs/schedule`);
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return res.body.job_id;
}

const waitLive = (page: Page) => page.waitForSelector('html[data-live="open"]', { timeout: 20_000 });

interface AxeViolation {
  id: string;
  impact: string | null;
  help: string;
  nodes: { target: string[] }[];
}

/** Waits until the analytics page has loaded, and fails with what its error box says if it could not. */
async function analyticsLoaded(page: Page, timeout = 30_000): Promise<void> {
  await page.waitForSelector('#analytics[data-loaded]', { timeout });
  const outcome = await page.getAttribute('#analytics', 'data-loaded');
  expect(outcome, (await page.textContent('#analytics-error')) ?? '').toBe('yes');
}

/** axe-core's serious and critical violations of the page as it is now. */
async function seriousViolations(page: Page, only?: string[]): Promise<string[]> {
  await page.evaluate(AXE_SOURCE);
  const options = only ? JSON.stringify({ runOnly: only }) : '{}';
  const result = (await page.evaluate(
    `axe.run(document, ${options}).then((r) => ({ violations: r.violations, passes: r.passes.length }))`,
  )) as { violations: AxeViolation[]; passes: number };
  // A run that checked nothing would pass anything.
  expect(result.passes).toBeGreaterThan(only ? 0 : 10);
  return result.violations
    .filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .map((v) => `${v.impact} ${v.id}: ${v.help} (${v.nodes.map((n) => n.target.join(' ')).join(', ')})`);
}

beforeAll(async () => {
  if (!hasChromium) return;
  endpoint = createServer((req, res) => {
    // /slow answers after a second: a backfill of it under buffer takes a while to run.
    setTimeout(
      () => res.writeHead(req.url === '/down' ? 500 : 200).end('ok'),
      req.url === '/slow' ? 1000 : 0,
    );
  });
  await new Promise<void>((r) => endpoint.listen(0, '127.0.0.1', r));
  const base = `http://127.0.0.1:${(endpoint.address() as AddressInfo).port}`;
  okUrl = `${base}/health`;
  failingUrl = `${base}/down`;
  [system, browser] = await Promise.all([startSystem(), launchBrowser()]);
});

afterAll(async () => {
  await browser?.close();
  await system?.dispose();
  endpoint?.close();
});

describe.skipIf(!hasChromium)('dashboard pages in Chromium', () => {
  let dana: BrowserContext;
  let page: Page;
  let containerId: string;
  let heartbeatId: string;
  let jobId: string;

  beforeAll(async () => {
    dana = await browser.newContext({ colorScheme: 'light', viewport: { width: 1280, height: 900 } });
    page = await dana.newPage();
    await signUp(page, 'dana.web@example.com');
    const created = await api<{ id: string }>(page, 'POST', '/workflows', {
      name: 'nightly report',
      kind: 'CONTAINER',
      payload: { image: TEST_IMAGE, cmd: ['sh', '-c', 'echo building; echo done'], timeout: '1m' },
      interval: 60,
    });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    containerId = created.body.id;
    await waitUntil(
      'built',
      async () =>
        (await api<{ build_status: string }>(page, 'GET', `/workflows/${containerId}`)).body.build_status ===
        'COMPLETED',
      60_000,
    );
    jobId = await runNow(page, containerId);
    expect(await jobEnded(page, containerId, jobId)).toBe('COMPLETED');
    expect(await jobEnded(page, containerId, await runNow(page, containerId))).toBe('COMPLETED');
    const hb = await api<{ id: string }>(page, 'POST', '/workflows', {
      name: 'api health',
      kind: 'HEARTBEAT',
      payload: { endpoint: okUrl },
      // Yearly: a cron that could fire while the tests run made its job count and history depend on
      // the wall clock (every 5 minutes failed a run that crossed a multiple of five).
      schedule: { cron: '0 4 1 1 *', timezone: 'Europe/Berlin' },
    });
    expect(hb.status, JSON.stringify(hb.body)).toBe(201);
    heartbeatId = hb.body.id;
  }, 180_000);

  afterAll(async () => {
    await dana?.close();
  });

  it('draws analytics from the API with a table of the same numbers, for all workflows and for one', async () => {
    const errors = collectErrors(page);
    // Log lines reach ClickHouse shortly after their job ends.
    await waitUntil(
      'log lines stored',
      async () => (await api<{ log_lines: number }>(page, 'GET', '/analytics')).body.log_lines === 4,
      30_000,
    );
    await page.goto(`${system.baseUrl}/stats`);
    await analyticsLoaded(page);
    expect(await page.textContent('[data-total="jobs"]')).toBe('2');
    expect(await page.textContent('[data-total="completed"]')).toBe('2');
    expect(await page.textContent('[data-total="workflows"]')).toBe('2');
    // Four charts drawn (uPlot's canvas), each with its table: 24 hourly rows, the completed jobs in them.
    expect(await page.locator('.chart canvas').count()).toBe(4);
    const rows = page.locator('#table-runs tbody tr');
    expect(await rows.count()).toBe(24);
    const completed = await page.$$eval('#table-runs tbody tr td:nth-child(2)', (tds) =>
      tds.reduce((n, td) => n + Number(td.textContent), 0),
    );
    expect(completed).toBe(2);
    const logLines = await page.$$eval('#table-logs tbody tr td:nth-child(2)', (tds) =>
      tds.reduce((n, td) => n + Number(td.textContent), 0),
    );
    expect(logLines).toBe(4);
    await screenshot(page, 'analytics-light');

    // One workflow, from its page's link; by day.
    await page.goto(`${system.baseUrl}/w/${heartbeatId}`);
    await Promise.all([page.waitForURL(/\/stats\?workflow=/), page.click('a[href^="/stats?workflow="]')]);
    await analyticsLoaded(page);
    expect(await page.textContent('[data-total="jobs"]')).toBe('0');
    await page.selectOption('select[name=bucket]', 'day');
    await Promise.all([page.waitForURL(/bucket=day/), page.click('form.filters button[type=submit]')]);
    await analyticsLoaded(page);
    expect(await page.locator('#table-runs tbody tr').count()).toBe(30);
    expect(errors).toEqual([]);
  });

  it('asks for the analytics again after a 503, says so meanwhile, and then draws them', async () => {
    // The API answers the first read of the series 503 (a store busy or down), as it would.
    let refused = 0;
    await page.route('**/analytics/series**', async (route) => {
      if (refused++ > 0) return route.continue();
      await route.fulfill({
        status: 503,
        headers: { 'Content-Type': 'application/problem+json', 'Retry-After': '1' },
        body: JSON.stringify({ code: 'analytics_unavailable', detail: 'ClickHouse is not answering.' }),
      });
    });
    try {
      await page.goto(`${system.baseUrl}/stats`);
      await page.locator('#analytics-error', { hasText: 'Trying again' }).waitFor();
      await analyticsLoaded(page);
      expect(refused).toBe(2);
      expect(await page.textContent('#analytics-error')).toBe('');
      expect(await page.locator('.chart canvas').count()).toBe(4);
    } finally {
      await page.unroute('**/analytics/series**');
    }
  });

  it("shows the workflow's audit history, growing live, and deletes it only after terminate and confirmation", async () => {
    const errors = collectErrors(page);
    const dialogs: string[] = [];
    const onDialog = async (d: import('playwright-core').Dialog) => {
      dialogs.push(d.message());
      await d.accept();
    };
    page.on('dialog', onDialog);
    await page.goto(`${system.baseUrl}/w/${heartbeatId}`);
    await waitLive(page);
    const types = () => page.$$eval('#history li', (lis) => lis.map((li) => li.getAttribute('data-type')));
    await page.waitForSelector('#history li[data-type="WorkflowBuildCompleted"]', { timeout: 10_000 });
    expect(await types()).toEqual(['WorkflowCreated', 'WorkflowBuildCompleted']);
    expect(await page.getAttribute('#history li[data-type="WorkflowCreated"] time', 'datetime')).toMatch(
      /Z$/,
    );
    expect(await page.isDisabled('button[data-action=delete]')).toBe(true);

    await page.click('button[data-action=pause]');
    await page.waitForSelector('#history li[data-type="WorkflowPaused"]', { timeout: 10_000 });
    // Its upcoming fires are gone with the pause, without a reload.
    expect(await page.isVisible('#upcoming-none')).toBe(true);
    expect(await page.locator('#upcoming ol.upcoming').count()).toBe(0);
    await page.click('button[data-action=terminate]');
    await page.waitForSelector('#history li[data-type="WorkflowTerminated"]', { timeout: 10_000 });
    expect(await types()).toEqual([
      'WorkflowCreated',
      'WorkflowBuildCompleted',
      'WorkflowPaused',
      'WorkflowTerminated',
    ]);
    expect(await page.textContent('#history li[data-type="WorkflowTerminated"]')).toContain('by the user');
    await screenshot(page, 'workflow-history-light');

    await page.waitForSelector('button[data-action=delete]:not([disabled])', { timeout: 10_000 });
    await Promise.all([page.waitForURL(`${system.baseUrl}/`), page.click('button[data-action=delete]')]);
    expect(dialogs.at(-1)).toContain('Delete the workflow “api health”');
    expect(await page.locator(`tr[data-workflow="${heartbeatId}"]`).count()).toBe(0);
    // Its history stays readable over the API, with the deletion as its last event.
    const history = await api<{ items: { type: string }[] }>(
      page,
      'GET',
      `/workflows/${heartbeatId}/history`,
    );
    expect(history.body.items.at(-1)?.type).toBe('WorkflowDeleted');
    page.off('dialog', onDialog);
    expect(errors).toEqual([]);
  });

  it('shows a notification live when repeated failures terminate a workflow', async () => {
    const errors = collectErrors(page);
    const flaky = await api<{ id: string }>(page, 'POST', '/workflows', {
      name: 'flaky probe',
      kind: 'HEARTBEAT',
      payload: { endpoint: failingUrl },
      interval: 60,
      max_consecutive_job_failures_allowed: 3,
    });
    expect(flaky.status, JSON.stringify(flaky.body)).toBe(201);
    await page.goto(`${system.baseUrl}/`);
    await waitLive(page);
    const before = Number(await page.getAttribute('#notif-count', 'data-count'));
    // Under the default preference (ALERTS) a failed job is an error and the termination an alert.
    for (let i = 0; i < 3; i++)
      expect(await jobEnded(page, flaky.body.id, await runNow(page, flaky.body.id))).toBe('FAILED');
    await page.waitForSelector(`tr[data-workflow="${flaky.body.id}"] [data-status="TERMINATED"]`, {
      timeout: 20_000,
    });
    await page.waitForFunction(
      `Number(document.querySelector('#notif-count')?.getAttribute('data-count')) >= ${before + 4}`,
      undefined,
      { timeout: 20_000 },
    );
    await page.click('#notif-toggle');
    const titles = page.locator('#notif-list .notif-title a');
    await titles.first().waitFor({ timeout: 10_000 });
    const all = await titles.allTextContents();
    expect(all[0]).toBe('Workflow terminated');
    expect(all.filter((t) => t === 'Job failed')).toHaveLength(3);
    expect(await page.locator('#notif-list .notif-message').first().textContent()).toBe(
      'Workflow "flaky probe" was terminated after too many consecutive job failures.',
    );
    await screenshot(page, 'notifications-terminated-light');
    await page.click('#notif-close');
    expect(errors).toEqual([]);
  });

  it('answers the keyboard: / searches the list, Esc goes back; times read relative with local and UTC on hover', async () => {
    await page.goto(`${system.baseUrl}/w/${containerId}/jobs/${jobId}`);
    await page.keyboard.press('Escape');
    await page.waitForURL(`${system.baseUrl}/w/${containerId}`);
    await page.keyboard.press('Escape');
    await page.waitForURL(`${system.baseUrl}/`);
    await page.keyboard.press('/');
    expect(await page.evaluate('document.activeElement?.id')).toBe('search');
    const time = page.locator(`tr[data-workflow="${containerId}"] time[datetime]`).first();
    expect(await time.textContent()).toMatch(/ago|now|in /);
    const title = (await time.getAttribute('title')) ?? '';
    expect(title).toContain('(local)');
    expect(title).toMatch(/\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2} UTC/);
  });

  it('chains a workflow to another and backfills it through their pages, with the API refusals beside the fields', async () => {
    const errors = collectErrors(page);
    const weekly = async (name: string, endpoint = okUrl) => {
      const res = await api<{ id: string }>(page, 'POST', '/workflows', {
        name,
        kind: 'HEARTBEAT',
        payload: { endpoint },
        interval: 10_080,
      });
      expect(res.status, JSON.stringify(res.body)).toBe(201);
      return res.body.id;
    };
    const first = await weekly('first step', okUrl.replace('/health', '/slow'));
    const second = await weekly('second <b>step</b>');
    const submit = () => page.click('#workflow-form button[type=submit]');

    // first → second on success, chosen by name among the user's other workflows.
    await page.goto(`${system.baseUrl}/w/${first}/edit`);
    await page.selectOption('select[name=chain_on_success]', second);
    await Promise.all([page.waitForURL(`**/w/${first}`), submit()]);
    expect(await page.textContent('#chain-facts')).toBe('on success: second <b>step</b>');
    expect(await page.getAttribute('#chain-facts a', 'href')).toBe(`/w/${second}`);

    // second → first would close a circle: the API's 422 beside the chain, naming it.
    await page.goto(`${system.baseUrl}/w/${second}/edit`);
    await page.selectOption('select[name=chain_on_end]', first);
    await submit();
    const chainError = page.locator('[data-error-for="chain"]');
    await chainError.filter({ hasText: /circle/ }).waitFor({ timeout: 10_000 });
    expect(await chainError.textContent()).toBe(
      'The chain would run in a circle: this workflow → “first step” → this workflow',
    );
    await screenshot(page, 'chain-cycle-light');
    expect(await seriousViolations(page)).toEqual([]);

    // A run of first starts second, whose job page links the job that caused it.
    const cause = await runNow(page, first);
    let chained: { id: string; trigger: string } | undefined;
    await waitUntil(
      'second ran',
      async () => {
        const jobs = await api<{ items: { id: string; trigger: string }[] }>(
          page,
          'GET',
          `/workflows/${second}/jobs`,
        );
        chained = jobs.body.items[0];
        return chained !== undefined;
      },
      30_000,
    );
    expect(chained?.trigger).toBe('CHAIN');
    await page.goto(`${system.baseUrl}/w/${second}/jobs/${chained!.id}`);
    expect(await page.textContent('.facts')).toContain(`Chain after job ${cause.slice(0, 8)}`);
    expect(await page.getAttribute(`a[href="/w/${first}/jobs/${cause}"]`, 'href')).toBeTruthy();

    // A backfill of first's last four weeks (its ticks before it existed count): a range reaching
    // past now is refused beside its field; then the four run one after another (a second each), and
    // the list follows their progress live, without a reload.
    await page.goto(`${system.baseUrl}/w/${first}`);
    const now = Date.now();
    await page.fill('#backfill-form input[name=from]', new Date(now - 29 * 86_400_000).toISOString());
    await page.fill('#backfill-form input[name=to]', new Date(now + 3_600_000).toISOString());
    await page.click('#backfill-form button[type=submit]');
    await page
      .locator('#backfill-form [data-error-for="to"]')
      .filter({ hasText: /now/ })
      .waitFor({ timeout: 10_000 });
    await page.fill('#backfill-form input[name=to]', new Date(now - 60_000).toISOString());
    await Promise.all([page.waitForLoadState('load'), page.click('#backfill-form button[type=submit]')]);
    const row = page.locator('#backfill-list tbody tr');
    await row.waitFor({ timeout: 10_000 });
    expect(await row.count()).toBe(1);
    await waitLive(page);
    await page.evaluate('window.notReloaded = true');
    const progress = page.locator('[data-backfill-progress]');
    const atFirst = await progress.textContent();
    await progress.filter({ hasText: '4 of 4 done' }).waitFor({ timeout: 30_000 });
    expect(atFirst).not.toBe('4 of 4 done');
    expect(await page.evaluate('window.notReloaded')).toBe(true);
    expect(await row.locator('td').nth(2).textContent()).toBe('4');
    await page.goto(`${system.baseUrl}/w/${first}?trigger=BACKFILL`);
    expect(await page.locator('tbody[data-jobs-of] tr').count()).toBe(4);
    await page.goto(`${system.baseUrl}/w/${first}`);
    await screenshot(page, 'workflow-backfill-light');
    expect(await seriousViolations(page)).toEqual([]);
    // Chromium logs each refused request (the two 422s); nothing else went wrong.
    expect(errors.filter((e) => !e.includes('status of 422'))).toEqual([]);
  }, 90_000);

  it('passes axe-core with no serious or critical violation on every page, light and dark, and captures each', async () => {
    const state = await dana.storageState();
    const pages: [string, string, (p: Page) => Promise<unknown>][] = [
      ['workflows', '/', waitLive],
      ['workflow', `/w/${containerId}`, (p) => p.waitForSelector('#history li')],
      ['job', `/w/${containerId}/jobs/${jobId}`, (p) => p.waitForSelector('#log[data-ended]')],
      ['new-workflow', '/new', waitLive],
      ['edit-workflow', `/w/${containerId}/edit`, waitLive],
      ['analytics', '/stats', (p) => analyticsLoaded(p)],
      ['not-found', '/w/00000000-0000-4000-8000-000000000000', waitLive],
    ];
    const found: string[] = [];
    for (const scheme of ['light', 'dark'] as const) {
      // Dark mode changes colours only: its pages are checked for contrast; light ones for everything.
      const only = scheme === 'dark' ? ['color-contrast'] : undefined;
      const signedIn = await browser.newContext({
        colorScheme: scheme,
        storageState: state,
        viewport: { width: 1280, height: 900 },
      });
      const anonymous = await browser.newContext({
        colorScheme: scheme,
        viewport: { width: 1280, height: 900 },
      });
      for (const [name, path, ready] of pages) {
        const p = await signedIn.newPage();
        const errors = collectErrors(p);
        await p.goto(`${system.baseUrl}${path}`);
        await ready(p);
        found.push(...(await seriousViolations(p, only)).map((v) => `${name} (${scheme}): ${v}`));
        await screenshot(p, `${name}-${scheme}`);
        // The 404 page logs its own status as a console error; nothing else may.
        expect(errors.filter((e) => !e.includes('404'))).toEqual([]);
        await p.close();
      }
      for (const name of ['login', 'signup']) {
        const p = await anonymous.newPage();
        await p.goto(`${system.baseUrl}/${name}`);
        found.push(...(await seriousViolations(p, only)).map((v) => `${name} (${scheme}): ${v}`));
        await screenshot(p, `${name}-${scheme}`);
        await p.close();
      }
      await signedIn.close();
      await anonymous.close();
    }
    expect(found).toEqual([]);
  }, 120_000);
});
