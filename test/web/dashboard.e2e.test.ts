// The dashboard in real Chromium against a real `chronoverse all` process: sign up in the browser,
// create a workflow through the JSON API with the browser's own session (cookie + CSRF header), run
// it now and watch its job reach COMPLETED over the live stream without a reload; user text shown as
// text; another user's pages are 404; an expired session renews itself or returns to login.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TEST_IMAGE } from '../support/executor-harness.ts';
import { startSystem, type TestSystem } from '../support/system.ts';
import {
  apiFromPage,
  collectErrors,
  hasChromium,
  launchBrowser,
  NO_CHROMIUM,
  PASSWORD,
  screenshot,
  signUp as signUpAt,
  untilLogEnds,
} from './browser.ts';

if (!hasChromium) console.warn(NO_CHROMIUM);

const XSS = '<img src=x onerror=alert(1)>';

let system: TestSystem;
const signUp = (page: Page, email: string) => signUpAt(page, system.baseUrl, email);
let browser: Browser;
let endpoint: Server;
let endpointUrl: string;

async function createHeartbeat(page: Page, name: string): Promise<string> {
  const res = await apiFromPage<{ id: string }>(page, 'POST', '/workflows', {
    name,
    kind: 'HEARTBEAT',
    payload: { endpoint: endpointUrl },
    interval: 60,
  });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return res.body.id;
}

const waitLive = (page: Page) => page.waitForSelector('html[data-live="open"]', { timeout: 20_000 });

beforeAll(async () => {
  if (!hasChromium) return;
  endpoint = createServer((_req, res) => res.writeHead(200).end('ok'));
  await new Promise<void>((r) => endpoint.listen(0, '127.0.0.1', r));
  endpointUrl = `http://127.0.0.1:${(endpoint.address() as AddressInfo).port}/health`;
  [system, browser] = await Promise.all([startSystem(), launchBrowser()]);
});

afterAll(async () => {
  await browser?.close();
  await system?.dispose();
  endpoint?.close();
});

describe.skipIf(!hasChromium)('the web dashboard in Chromium', () => {
  let alice: BrowserContext;
  let workflowId: string;
  let jobPath: string;

  it('serves the login page at / with a strict CSP and no inline script', async () => {
    const res = await fetch(`${system.baseUrl}/`, { redirect: 'manual' });
    expect(res.status).toBe(302);
    expect(res.headers.get('location')).toBe('/login');
    const login = await fetch(`${system.baseUrl}/login`);
    expect(login.status).toBe(200);
    const csp = login.headers.get('content-security-policy') ?? '';
    expect(csp).toContain("script-src 'self'");
    expect(csp).toContain("default-src 'none'");
    const html = await login.text();
    expect(html.startsWith('<!doctype html>')).toBe(true);
    // Every script is a file of this origin.
    expect(html.match(/<script(?![^>]*\bsrc=)[^>]*>/g)).toBeNull();
  });

  it('signs up, creates a HEARTBEAT workflow, runs it now and sees COMPLETED live without a reload', async () => {
    alice = await browser.newContext({ colorScheme: 'light', viewport: { width: 1280, height: 800 } });
    const page = await alice.newPage();
    const errors = collectErrors(page);
    await page.goto(`${system.baseUrl}/`);
    expect(new URL(page.url()).pathname).toBe('/login');
    await screenshot(page, 'login-light');
    await signUp(page, 'alice.web@example.com');
    expect(await page.textContent('h1')).toBe('Workflows');
    await waitLive(page);

    // Created while the list is open: the live stream announces it.
    workflowId = await createHeartbeat(page, 'nightly heartbeat');
    await page.waitForSelector('#new-workflows:not([hidden])', { timeout: 20_000 });
    expect(await page.textContent('#new-workflows .text')).toContain('nightly heartbeat');

    await page.reload();
    const row = page.locator(`tr[data-workflow="${workflowId}"]`);
    expect(await row.locator('a.name').textContent()).toBe('nightly heartbeat');
    expect(await row.textContent()).toContain('Every hour');
    expect(await row.locator(`[data-wf-status="${workflowId}"]`).getAttribute('data-status')).toBe('ACTIVE');
    expect(await row.locator(`[data-wf-status="${workflowId}"] .label`).textContent()).toBe('Active');
    await screenshot(page, 'workflows-light');

    await Promise.all([page.waitForURL(`**/w/${workflowId}`), row.locator('a.name').click()]);
    expect(await page.textContent('h1')).toBe('nightly heartbeat');
    await waitLive(page);
    // A mark that a reload would wipe.
    await page.evaluate('window.notReloaded = true');
    await page.click('button[data-action="run"]');
    const badge = page.locator('tbody[data-jobs-of] [data-job-status]').first();
    await badge.waitFor({ timeout: 10_000 });
    await page.waitForSelector('tbody[data-jobs-of] [data-job-status][data-status="COMPLETED"]', {
      timeout: 60_000,
    });
    expect(await badge.locator('.label').textContent()).toBe('Completed');
    expect(await page.evaluate('window.notReloaded')).toBe(true);
    await screenshot(page, 'workflow-light');

    jobPath = (await page.locator('tbody[data-jobs-of] a.mono').first().getAttribute('href')) ?? '';
    await page.goto(`${system.baseUrl}${jobPath}`);
    expect(await page.locator('[data-job-status]').first().getAttribute('data-status')).toBe('COMPLETED');
    await page.waitForSelector('#log[data-ended="COMPLETED"]', { timeout: 20_000 });
    await screenshot(page, 'job-light');
    expect(errors).toEqual([]);
  });

  it("updates the list's last run live as a job runs", async () => {
    const page = await alice.newPage();
    await page.goto(`${system.baseUrl}/`);
    await waitLive(page);
    const run = await apiFromPage<{ job_id: string }>(page, 'POST', `/workflows/${workflowId}/jobs/schedule`);
    expect(run.status).toBe(201);
    await page.waitForSelector(
      `[data-wf-last-run="${workflowId}"] [data-job-status="${run.body.job_id}"][data-status="COMPLETED"]`,
      { timeout: 60_000 },
    );
    await page.close();
  });

  it("pages a workflow's jobs by keyset and filters them by trigger", async () => {
    const page = await alice.newPage();
    await page.goto(`${system.baseUrl}/w/${workflowId}`);
    // Two manual runs so far; 28 more make 30, one page of 25 and one of 5.
    for (let i = 0; i < 28; i++) {
      const run = await apiFromPage(page, 'POST', `/workflows/${workflowId}/jobs/schedule`);
      expect(run.status, JSON.stringify(run.body)).toBe(201);
    }
    await page.reload();
    const ids = () =>
      page
        .locator('tbody[data-jobs-of] tr')
        .evaluateAll((rows) => rows.map((r) => r.getAttribute('data-job')));
    const first = await ids();
    expect(first).toHaveLength(25);
    await Promise.all([page.waitForURL(/cursor=/), page.click('a:text("Older jobs")')]);
    const second = await ids();
    expect(second).toHaveLength(5);
    expect(new Set([...first, ...second]).size).toBe(30);
    expect(await page.locator('a:text("Older jobs")').count()).toBe(0);

    await page.goto(`${system.baseUrl}/w/${workflowId}?trigger=AUTOMATIC`);
    expect(await ids()).toHaveLength(0);
    expect(await page.inputValue('select[name=trigger]')).toBe('AUTOMATIC');
    await page.goto(`${system.baseUrl}/w/${workflowId}?trigger=MANUAL&cursor=not-a-cursor`);
    expect(await page.textContent('h1')).toBe('Cannot show this');
    await page.close();
  });

  it('shows the same pages in dark mode from prefers-color-scheme', async () => {
    const dark = await browser.newContext({
      colorScheme: 'dark',
      viewport: { width: 1280, height: 800 },
      storageState: await alice.storageState(),
    });
    const page = await dark.newPage();
    await page.goto(`${system.baseUrl}/`);
    const background = await page.evaluate('getComputedStyle(document.body).backgroundColor');
    expect(background).toBe('rgb(15, 18, 22)');
    await screenshot(page, 'workflows-dark');
    await page.goto(`${system.baseUrl}/w/${workflowId}`);
    await screenshot(page, 'workflow-dark');
    await page.goto(`${system.baseUrl}${jobPath}`);
    await page.waitForSelector('#log[data-ended]', { timeout: 20_000 });
    await screenshot(page, 'job-dark');
    await dark.close();
  });

  it('shows a workflow name with HTML in it as text: no dialog, no injected element', async () => {
    const page = await alice.newPage();
    const dialogs: string[] = [];
    page.on('dialog', async (d) => {
      dialogs.push(d.message());
      await d.dismiss();
    });
    await page.goto(`${system.baseUrl}/`);
    await waitLive(page);
    const id = await createHeartbeat(page, XSS);
    // Live: the announcement carries the name as text.
    await page.waitForSelector('#new-workflows:not([hidden])', { timeout: 20_000 });
    expect(await page.textContent('#new-workflows .text')).toBe(`New workflow: ${XSS}.`);
    await page.reload();
    expect(await page.locator(`tr[data-workflow="${id}"] a.name`).textContent()).toBe(XSS);
    await page.goto(`${system.baseUrl}/w/${id}`);
    expect(await page.textContent('h1')).toBe(XSS);
    expect(await page.title()).toBe(`${XSS} · Chronoverse`);
    await page.goto(`${system.baseUrl}/?q=${encodeURIComponent(XSS)}`);
    expect(await page.inputValue('#search')).toBe(XSS);
    expect(await page.locator(`tr[data-workflow="${id}"]`).count()).toBe(1);
    expect(await page.locator('img').count()).toBe(0);
    expect(dialogs).toEqual([]);
    await page.close();
  });

  it("answers 404 for another user's workflow and job pages", async () => {
    const bob = await browser.newContext();
    const page = await bob.newPage();
    await signUp(page, 'bob.web@example.com');
    const wf = await page.goto(`${system.baseUrl}/w/${workflowId}`);
    expect(wf?.status()).toBe(404);
    expect(await page.textContent('h1')).toBe('Not found');
    expect(await page.textContent('main')).not.toContain('nightly heartbeat');
    const job = await page.goto(`${system.baseUrl}${jobPath}`);
    expect(job?.status()).toBe(404);
    // Bob's list is his own: empty.
    await page.goto(`${system.baseUrl}/`);
    expect(await page.locator('tr[data-workflow]').count()).toBe(0);
    expect((await page.goto(`${system.baseUrl}/w/not-a-uuid`))?.status()).toBe(404);
    await bob.close();
  });

  it('pauses, resumes and terminates from the workflow page, and another open page follows live', async () => {
    const page = await alice.newPage();
    const list = await alice.newPage();
    await page.goto(`${system.baseUrl}/new`);
    const id = await createHeartbeat(page, 'lifecycle');
    await list.goto(`${system.baseUrl}/`);
    await waitLive(list);
    await page.goto(`${system.baseUrl}/w/${id}`);
    await waitLive(page);
    const status = (p: Page) => p.locator(`[data-wf-status="${id}"]`).first().getAttribute('data-status');
    const listStatus = (s: string) =>
      list.waitForSelector(`tr[data-workflow="${id}"] [data-wf-status][data-status="${s}"]`, {
        timeout: 20_000,
      });

    await page.click('button[data-action="pause"]');
    await page.waitForSelector(`h1 + [data-wf-status][data-status="PAUSED"]`, { timeout: 20_000 });
    expect(await page.isDisabled('button[data-action="pause"]')).toBe(true);
    expect(await page.isEnabled('button[data-action="resume"]')).toBe(true);
    await listStatus('PAUSED');
    expect(await list.textContent(`tr[data-workflow="${id}"] [data-wf-status] .label`)).toBe('Paused');

    await page.click('button[data-action="resume"]');
    await page.waitForSelector(`h1 + [data-wf-status][data-status="ACTIVE"]`, { timeout: 20_000 });
    await listStatus('ACTIVE');

    // Terminating asks first; a dismissed question changes nothing.
    const answers = [false, true];
    const questions: string[] = [];
    page.on('dialog', async (d) => {
      questions.push(d.message());
      if (answers.shift()) await d.accept();
      else await d.dismiss();
    });
    await page.click('button[data-action="terminate"]');
    expect(await status(page)).toBe('ACTIVE');
    await page.click('button[data-action="terminate"]');
    await page.waitForSelector(`h1 + [data-wf-status][data-status="TERMINATED"]`, { timeout: 20_000 });
    expect(questions).toHaveLength(2);
    expect(questions[0]).toContain('Terminate');
    for (const action of ['run', 'pause', 'resume', 'terminate'])
      expect(await page.isDisabled(`button[data-action="${action}"]`)).toBe(true);
    await listStatus('TERMINATED');
    await page.close();
    await list.close();
  });

  it('misses no change made between the page being rendered and its stream starting', async () => {
    const page = await alice.newPage();
    const other = await alice.newPage();
    await other.goto(`${system.baseUrl}/new`);
    const id = await createHeartbeat(other, 'gap');
    // The stream is held back two seconds; the pause happens meanwhile, before it subscribes.
    let release!: () => void;
    const held = new Promise<void>((r) => {
      release = r;
    });
    await page.route('**/events', async (route) => {
      await held;
      await route.continue();
    });
    await page.goto(`${system.baseUrl}/w/${id}`);
    expect(await page.getAttribute('h1 + [data-wf-status]', 'data-status')).toBe('ACTIVE');
    expect((await apiFromPage(other, 'POST', `/workflows/${id}/pause`)).status).toBe(200);
    const run = await apiFromPage<{ job_id: string }>(other, 'POST', `/workflows/${id}/jobs/schedule`);
    expect(run.status).toBe(201);
    await new Promise((r) => setTimeout(r, 2000));
    release();
    await waitLive(page);
    await page.waitForSelector('h1 + [data-wf-status][data-status="PAUSED"]', { timeout: 10_000 });
    await page.waitForSelector(`[data-job-status="${run.body.job_id}"]`, { timeout: 10_000 });
    expect(await page.isEnabled('button[data-action="resume"]')).toBe(true);
    await page.close();
    await other.close();
  });

  it('creates a HEARTBEAT workflow through the form, with the API errors beside their fields, and edits it', async () => {
    const page = await alice.newPage();
    const errors = collectErrors(page);
    await page.goto(`${system.baseUrl}/new`);
    // Only the fields of the chosen kind and schedule are shown.
    expect(await page.isVisible('input[name=endpoint]')).toBe(true);
    expect(await page.isVisible('input[name=image]')).toBe(false);
    expect(await page.isVisible('input[name=cron]')).toBe(false);
    await page.fill('input[name=name]', 'form heartbeat');
    await page.fill('input[name=endpoint]', 'ftp://example.com/');
    await page.click('button[type=submit]');
    const endpointError = page.locator('[data-error-for="payload.endpoint"]');
    await endpointError.filter({ hasText: /http/ }).waitFor({ timeout: 10_000 });
    expect(await page.getAttribute('input[name=endpoint]', 'aria-invalid')).toBe('true');
    await screenshot(page, 'new-workflow-errors-light');

    await page.fill('input[name=endpoint]', endpointUrl);
    await page.fill('input[name=interval]', '0');
    await page.click('button[type=submit]');
    await page.locator('[data-error-for="interval"]').filter({ hasText: /\S/ }).waitFor({ timeout: 10_000 });
    expect(await endpointError.textContent()).toBe('');

    await page.fill('input[name=interval]', '30');
    await Promise.all([page.waitForURL(/\/w\/[0-9a-f-]{36}$/), page.click('button[type=submit]')]);
    expect(await page.textContent('h1')).toBe('form heartbeat');
    expect(await page.textContent('.facts')).toContain('Every 30 minutes');

    await Promise.all([page.waitForURL(/\/edit$/), page.click('a:text("Edit")')]);
    expect(await page.inputValue('input[name=endpoint]')).toBe(endpointUrl);
    await page.fill('input[name=name]', 'form heartbeat, renamed');
    await page.selectOption('select[name=schedule_type]', 'cron');
    await page.fill('input[name=cron]', '30 9 * * *');
    await page.fill('input[name=timezone]', 'Europe/Berlin');
    await Promise.all([page.waitForURL(/\/w\/[0-9a-f-]{36}$/), page.click('button[type=submit]')]);
    expect(await page.textContent('h1')).toBe('form heartbeat, renamed');
    expect(await page.textContent('.facts')).toContain('Every day at 09:30 (Europe/Berlin)');
    // Chromium logs each refused request (the two 422s above); nothing else went wrong.
    expect(errors.filter((e) => !e.includes('status of 422'))).toEqual([]);
    await page.close();
  });

  it('creates a CONTAINER workflow through the form, runs it and shows its log lines live', async () => {
    const page = await alice.newPage();
    await page.goto(`${system.baseUrl}/new`);
    await page.fill('input[name=name]', 'form container');
    await page.selectOption('select[name=kind]', 'CONTAINER');
    await page.fill('input[name=image]', TEST_IMAGE);
    await page.fill(
      'textarea[name=cmd]',
      `sh\n-c\necho "one ${XSS}"; echo two >&2; printf '\\033[31mred\\033[0m\\n'`,
    );
    await page.fill('textarea[name=env]', 'GREETING=hello');
    await page.fill('input[name=interval]', '1440');
    await Promise.all([page.waitForURL(/\/w\/[0-9a-f-]{36}$/), page.click('button[type=submit]')]);
    expect(await page.textContent('.facts')).toContain('CONTAINER');
    await waitLive(page);
    // The image is built first (live: the build badge); then the job runs.
    const id = new URL(page.url()).pathname.split('/')[2]!;
    await page.waitForSelector(`.facts [data-wf-build="${id}"][data-status="COMPLETED"]`, {
      timeout: 90_000,
    });
    await page.click('button[data-action="run"]');
    const link = page.locator('tbody[data-jobs-of] a.mono').first();
    await link.waitFor({ timeout: 10_000 });
    await Promise.all([page.waitForURL(/\/jobs\//), link.click()]);
    await untilLogEnds(page, 'COMPLETED', 90_000);
    const lines = await page.locator('#log .ln .msg').allTextContents();
    // stdout and stderr are two pipes: their lines interleave in the order they reached the executor.
    expect([...lines].sort()).toEqual([`one ${XSS}`, 'red', 'two']);
    expect(await page.locator('#log .ln.stderr').count()).toBe(1);
    expect(await page.locator('#log .ansi-fg31').textContent()).toBe('red');
    expect(await page.locator('img').count()).toBe(0);
    await screenshot(page, 'job-container-light');
    await page.close();
  });

  it('renews a session whose access cookie expired, and returns to login with a message when it cannot', async () => {
    const page = await alice.newPage();
    // The browser drops cv_access when its max-age passes; the refresh cookie is still there.
    await alice.clearCookies({ name: 'cv_access' });
    await page.goto(`${system.baseUrl}/w/${workflowId}`);
    await page.waitForSelector('h1:text("nightly heartbeat")', { timeout: 20_000 });
    expect((await alice.cookies()).some((c) => c.name === 'cv_access')).toBe(true);

    // Without the refresh cookie too, the session is over: back to login, with a message, and back here after.
    await alice.clearCookies({ name: 'cv_access' });
    await alice.clearCookies({ name: 'cv_refresh' });
    await page.goto(`${system.baseUrl}/w/${workflowId}`);
    await page.waitForURL('**/login?**', { timeout: 20_000 });
    expect(await page.textContent('#auth-message')).toBe('Your session has expired. Log in again.');
    await page.fill('#email', 'alice.web@example.com');
    await page.fill('#password', PASSWORD);
    await Promise.all([page.waitForURL(`**/w/${workflowId}`), page.click('button[type=submit]')]);
    expect(await page.textContent('h1')).toBe('nightly heartbeat');
    await page.close();
  });

  it('shows a notification live in the header badge and drawer, and marking it read clears the badge', async () => {
    const carol = await browser.newContext({ colorScheme: 'light', viewport: { width: 1280, height: 800 } });
    const page = await carol.newPage();
    const errors = collectErrors(page);
    const dialogs: string[] = [];
    page.on('dialog', async (d) => {
      dialogs.push(d.message());
      await d.dismiss();
    });
    await signUp(page, 'carol.web@example.com');
    // Pauses notify under the preference ALL (the default ALERTS shows alerts and errors only).
    const pref = await apiFromPage(page, 'PATCH', '/users/me', { notification_preference: 'ALL' });
    expect(pref.status, JSON.stringify(pref.body)).toBe(200);
    const id = await createHeartbeat(page, XSS);
    await page.reload();
    await waitLive(page);
    expect(await page.isHidden('#notif-count')).toBe(true);
    expect(await page.getAttribute('#notif-count', 'data-count')).toBe('0');

    // Paused elsewhere (another tab of the same user): the badge and the drawer follow live.
    const other = await carol.newPage();
    await other.goto(`${system.baseUrl}/new`);
    expect((await apiFromPage(other, 'POST', `/workflows/${id}/pause`)).status).toBe(200);
    await page.waitForSelector('#notif-count[data-count="1"]:not([hidden])', { timeout: 20_000 });
    expect(await page.textContent('#notif-count')).toBe('1');
    await page.click('#notif-toggle');
    expect(await page.getAttribute('#notif-toggle', 'aria-expanded')).toBe('true');
    const item = page.locator('#notif-list li[data-notification]');
    await item.first().waitFor({ timeout: 10_000 });
    expect(await item.count()).toBe(1);
    expect(await item.locator('.notif-title a').textContent()).toBe('Workflow paused');
    expect(await item.locator('.notif-title a').getAttribute('href')).toBe(`/w/${id}`);
    expect(await item.locator('.notif-message').textContent()).toBe(`Workflow "${XSS}" was paused.`);
    expect(await item.locator('time[datetime]').count()).toBe(1);
    expect(await page.locator('img').count()).toBe(0);
    await screenshot(page, 'notifications-light');

    // Rendered by the server too: a new page shows the unread count before its stream opens.
    await page.reload();
    expect(await page.getAttribute('#notif-count', 'data-count')).toBe('1');
    expect(await page.isVisible('#notif-count')).toBe(true);
    await waitLive(page);
    await page.click('#notif-toggle');
    await item.first().waitFor({ timeout: 10_000 });
    await item.locator('button[data-read]').click();
    await page.waitForSelector('#notif-count[hidden]', { state: 'attached', timeout: 10_000 });
    expect(await item.count()).toBe(0);
    expect(await page.isVisible('#notif-empty')).toBe(true);
    // Read for good: the server renders no badge any more.
    await page.reload();
    expect(await page.getAttribute('#notif-count', 'data-count')).toBe('0');
    expect(await page.isHidden('#notif-count')).toBe(true);
    expect(dialogs).toEqual([]);
    expect(errors).toEqual([]);
    await carol.close();
  });

  it('pauses and resumes several workflows at once from the list, each row showing its own outcome', async () => {
    const dave = await browser.newContext({ colorScheme: 'light', viewport: { width: 1280, height: 800 } });
    const page = await dave.newPage();
    const errors = collectErrors(page);
    await signUp(page, 'dave.web@example.com');
    const ids = [
      await createHeartbeat(page, 'bulk one'),
      await createHeartbeat(page, 'bulk two'),
      await createHeartbeat(page, 'bulk three'),
    ];
    const ended = await createHeartbeat(page, 'bulk ended');
    expect((await apiFromPage(page, 'POST', `/workflows/${ended}/terminate`)).status).toBe(200);
    await page.reload();
    await waitLive(page);
    expect(await page.isDisabled('button[data-bulk="pause"]')).toBe(true);
    await page.check('#bulk-all');
    expect(await page.textContent('#bulk-selected')).toBe('4 selected');
    await page.click('button[data-bulk="pause"]');
    for (const id of ids) {
      await page.waitForSelector(`[data-bulk-result="${id}"][data-outcome="ok"]`, { timeout: 20_000 });
      expect(await page.textContent(`[data-bulk-result="${id}"]`)).toBe('Paused');
      expect(await page.getAttribute(`tr[data-workflow="${id}"] [data-wf-status]`, 'data-status')).toBe(
        'PAUSED',
      );
    }
    // The terminated one cannot be paused: its row says why, the others are not affected.
    await page.waitForSelector(`[data-bulk-result="${ended}"][data-outcome="error"]`, { timeout: 20_000 });
    expect((await page.textContent(`[data-bulk-result="${ended}"]`))?.length).toBeGreaterThan(0);
    expect(await page.getAttribute(`tr[data-workflow="${ended}"] [data-wf-status]`, 'data-status')).toBe(
      'TERMINATED',
    );
    await screenshot(page, 'workflows-bulk-light');
    for (const id of ids) {
      const w = await apiFromPage<{ status: string }>(page, 'GET', `/workflows/${id}`);
      expect(w.body.status).toBe('PAUSED');
    }

    await page.uncheck(`input[data-bulk-pick="${ended}"]`);
    expect(await page.textContent('#bulk-selected')).toBe('3 selected');
    await page.click('button[data-bulk="resume"]');
    for (const id of ids) {
      await page.waitForSelector(`[data-bulk-result="${id}"]:text("Resumed")`, { timeout: 20_000 });
      expect(await page.getAttribute(`tr[data-workflow="${id}"] [data-wf-status]`, 'data-status')).toBe(
        'ACTIVE',
      );
    }
    expect(errors.filter((e) => !e.includes('status of 409'))).toEqual([]);
    await dave.close();
  });

  it('logs out', async () => {
    const page = await alice.newPage();
    await page.goto(`${system.baseUrl}/`);
    await Promise.all([page.waitForURL('**/login?logged_out=1'), page.click('#logout')]);
    expect(await page.textContent('#auth-message')).toBe('You are logged out.');
    await page.goto(`${system.baseUrl}/`);
    expect(new URL(page.url()).pathname).toBe('/login');
    await alice.close();
  });
});
