// Real Chromium for the dashboard's browser tests: Debian's package (`apt-get install chromium`;
// .ci/run installs it), driven by playwright-core, never a browser downloaded by a tool. Without the
// binary the browser tests are skipped with a message saying so.
import { existsSync, mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { type Browser, chromium, type Page } from 'playwright-core';

export const CHROMIUM = process.env.CV_CHROMIUM_PATH || '/usr/bin/chromium';
export const hasChromium = existsSync(CHROMIUM);
export const NO_CHROMIUM = `browser tests skipped: no Chromium at ${CHROMIUM} (install Debian's package: apt-get install chromium; .ci/run does)`;

export function launchBrowser(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'],
  });
}

/** Screenshots go to a git-ignored folder; the README shows copies of a few from docs/screenshots. */
export const SCREENSHOTS = resolve(import.meta.dirname, '../../.data/screenshots');

export async function screenshot(page: Page, name: string): Promise<string> {
  mkdirSync(SCREENSHOTS, { recursive: true });
  const path = join(SCREENSHOTS, `${name}.png`);
  await page.screenshot({ path, fullPage: true });
  return path;
}

/** Everything a page reports as an error: console errors (CSP violations are among them) and uncaught exceptions. */
export function collectErrors(page: Page): string[] {
  const errors: string[] = [];
  page.on('console', (m) => {
    if (m.type() === 'error') errors.push(`console: ${m.text()}`);
  });
  page.on('pageerror', (e) => errors.push(`pageerror: ${e.message}`));
  return errors;
}

export const PASSWORD = 'correct horse battery staple';

/** Signs up through the form; the page's context then holds the session cookies. */
export async function signUp(page: Page, baseUrl: string, email: string): Promise<void> {
  await page.goto(`${baseUrl}/signup`);
  await page.fill('#email', email);
  await page.fill('#password', PASSWORD);
  await Promise.all([page.waitForURL(`${baseUrl}/`), page.click('button[type=submit]')]);
}

/** A JSON API call from the page, with its cookies and the CSRF header, as the dashboard makes them. */
const API_CALL = `async ([method, path, body]) => {
  const csrf = document.cookie.split('; ').find((c) => c.startsWith('cv_csrf='))?.slice('cv_csrf='.length);
  const res = await fetch(path, {
    method,
    headers: { 'content-type': 'application/json', 'x-csrf-token': csrf ?? '' },
    ...(body === null ? {} : { body: JSON.stringify(body) }),
  });
  return { status: res.status, body: await res.json().catch(() => null) };
}`;

export async function apiFromPage<T = Record<string, unknown>>(
  page: Page,
  method: string,
  path: string,
  body?: unknown,
): Promise<{ status: number; body: T }> {
  const args = JSON.stringify([method, path, body ?? null]);
  return (await page.evaluate(`(${API_CALL})(${args})`)) as { status: number; body: T };
}

/**
 * Waits for the job page's log to end `status`. One that ends otherwise, or not within `timeoutMs`,
 * fails with what the page showed and the job's record (its failure reason): a CONTAINER job that
 * did not end was once seen in three different tests with nothing to say why. `more` adds what the
 * test knows besides (a proxy's reconnects).
 */
export async function untilLogEnds(
  page: Page,
  status: string,
  timeoutMs: number,
  more: () => Record<string, unknown> = () => ({}),
): Promise<void> {
  const ended = await page.waitForSelector('#log[data-ended]', { timeout: timeoutMs }).then(
    () => true,
    () => false,
  );
  if (ended && (await page.getAttribute('#log', 'data-ended')) === status) return;
  const [, , workflowId, , jobId] = new URL(page.url()).pathname.split('/');
  const job = await apiFromPage(page, 'GET', `/workflows/${workflowId}/jobs/${jobId}`);
  const shown = {
    ended: await page.getAttribute('#log', 'data-ended'),
    lines: await page.getAttribute('#log', 'data-lines'),
    state: await page.textContent('#log-state'),
    ...more(),
  };
  throw new Error(
    `the log did not end ${status} within ${timeoutMs / 1000} s: page ${JSON.stringify(shown)}, job ${JSON.stringify(job.body)}`,
  );
}
