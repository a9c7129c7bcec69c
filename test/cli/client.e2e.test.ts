// The command-line client as a user runs it: `chronoverse <command>` child processes against the whole
// system (api, scheduler, projector, executor with Docker). It logs in (the key in a 0600 file), creates
// a CONTAINER workflow from a file, runs it, follows its log to the end (exit 0 for COMPLETED, 1 for a
// failing command, the container's output printed), lists, pauses, resumes, shows the history (naming
// the CLI's key), deletes; `--json` answers parse; the exit codes of usage, auth and not-found errors.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitUntil } from '../../src/stack/process-control.ts';
import { TEST_IMAGE } from '../support/executor-harness.ts';
import { cli } from '../support/role-process.ts';
import { ApiClient, startSystem, type TestSystem } from '../support/system.ts';

let system: TestSystem;
let home: string;
let configFile: string;
const PASSWORD = 'correct horse battery staple';
const EMAIL = 'cli-user@example.com';

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

function chronoverse(
  args: string[],
  options: { env?: Record<string, string>; input?: string } = {},
): Promise<Run> {
  const [command, argv] = cli(...args);
  const child = spawn(command, argv, {
    env: {
      ...process.env,
      CHRONOVERSE_CONFIG: configFile,
      CHRONOVERSE_API_URL: system.baseUrl,
      CHRONOVERSE_API_KEY: '',
      ...options.env,
    },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (b: Buffer) => (stdout += b));
  child.stderr.on('data', (b: Buffer) => (stderr += b));
  child.stdin.end(options.input ?? '');
  return new Promise((resolve) => child.once('exit', (code) => resolve({ code, stdout, stderr })));
}

function workflowFile(name: string, cmd: string[]): string {
  const file = join(home, `${name}.json`);
  writeFileSync(
    file,
    JSON.stringify({
      name,
      kind: 'CONTAINER',
      payload: { image: TEST_IMAGE, cmd, timeout: '1m' },
      interval: 10_080,
    }),
  );
  return file;
}

async function createBuilt(name: string, cmd: string[]): Promise<string> {
  const created = await chronoverse(['workflows', 'create', '-f', workflowFile(name, cmd)]);
  expect(created.code, created.stderr).toBe(0);
  const id = created.stdout.trim();
  expect(id).toMatch(/^[0-9a-f-]{36}$/);
  await waitUntil(
    `${name} built`,
    async () => {
      const got = await chronoverse(['workflows', 'get', id, '--json']);
      return (JSON.parse(got.stdout) as { build_status: string }).build_status === 'COMPLETED';
    },
    90_000,
  );
  return id;
}

beforeAll(async () => {
  home = mkdtempSync(join(tmpdir(), 'cv-cli-'));
  configFile = join(home, 'config', 'chronoverse', 'config.json');
  system = await startSystem();
  const user = new ApiClient(system.baseUrl);
  await user.post('/auth/register', { email: EMAIL, password: PASSWORD });
}, 120_000);

afterAll(async () => {
  await system?.dispose();
  if (home) rmSync(home, { recursive: true, force: true });
});

describe('chronoverse client', () => {
  it('refuses to work before login (exit 3) and on bad arguments (exit 2)', async () => {
    const before = await chronoverse(['workflows', 'list']);
    expect(before.code).toBe(3);
    expect(before.stderr).toContain('chronoverse login');
    expect((await chronoverse(['workflows', 'frobnicate'])).code).toBe(2);
    expect((await chronoverse(['logs', '-f', 'only-one'])).code).toBe(2);
    const bad = await chronoverse(['login', '--key', 'cvk_nope', '--json']);
    expect(bad.code).toBe(3);
    expect(JSON.parse(bad.stderr)).toMatchObject({ error: { code: 'invalid_token' } });
  });

  it('logs in with a password, keeping only a new API key in a 0600 file', async () => {
    const login = await chronoverse(['login', '--email', EMAIL], { env: { CHRONOVERSE_PASSWORD: PASSWORD } });
    expect(login.code, login.stderr).toBe(0);
    expect(login.stdout).toContain(EMAIL);
    const config = JSON.parse(await import('node:fs/promises').then((fs) => fs.readFile(configFile, 'utf8')));
    expect(config.api_url).toBe(system.baseUrl);
    expect(config.key).toMatch(/^cvk_/);
    expect(JSON.stringify(config)).not.toContain(PASSWORD);
    expect(statSync(configFile).mode & 0o777).toBe(0o600);
    expect(login.stdout + login.stderr).not.toContain(config.key);
    // The key works on its own, as a key.
    const me = await fetch(`${system.baseUrl}/users/me`, {
      headers: { authorization: `Bearer ${config.key}` },
    });
    expect(me.status).toBe(200);
  });

  it('creates, runs and follows a job to its end: exit 0 with the container’s output', {
    timeout: 180_000,
  }, async () => {
    const id = await createBuilt('cli hello', [
      'sh',
      '-c',
      'echo hello from the container; echo second line',
    ]);
    const listed = await chronoverse(['workflows', 'list']);
    expect(listed.code).toBe(0);
    expect(listed.stdout).toMatch(/^ID\s+NAME\s+KIND\s+STATUS/);
    expect(listed.stdout).toContain('cli hello');
    const asJson = JSON.parse((await chronoverse(['workflows', 'list', '--json'])).stdout) as {
      id: string;
    }[];
    expect(asJson.map((w) => w.id)).toContain(id);

    const run = await chronoverse(['workflows', 'run', id]);
    expect(run.code, run.stderr).toBe(0);
    const jobId = run.stdout.trim();
    const follow = await chronoverse(['logs', '-f', id, jobId]);
    expect(follow.code, follow.stderr).toBe(0);
    expect(follow.stdout).toBe('hello from the container\nsecond line\n');

    const followJson = await chronoverse(['logs', '-f', id, jobId, '--json']);
    expect(followJson.code).toBe(0);
    const events = followJson.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { event: string; status?: string });
    expect(events.at(-1)).toEqual({ event: 'end', status: 'COMPLETED' });
    expect(events.filter((e) => e.event === 'log')).toHaveLength(2);

    const jobs = await chronoverse(['jobs', 'list', id, '--json']);
    expect((JSON.parse(jobs.stdout) as { id: string; status: string }[])[0]).toMatchObject({
      id: jobId,
      status: 'COMPLETED',
    });
    const table = await chronoverse(['jobs', 'list', id]);
    expect(table.stdout).toContain(jobId);
    expect(table.stdout).toContain('COMPLETED');
  });

  it('follows a failing job to its end: exit 1, its output printed', { timeout: 180_000 }, async () => {
    const id = await createBuilt('cli fails', ['sh', '-c', 'echo about to fail; exit 3']);
    const jobId = (await chronoverse(['workflows', 'run', id])).stdout.trim();
    const follow = await chronoverse(['logs', '-f', id, jobId]);
    expect(follow.code).toBe(1);
    expect(follow.stdout).toContain('about to fail');
    expect(follow.stderr).toContain('FAILED');
  });

  it('updates, pauses, resumes, shows the history naming its key, and deletes', {
    timeout: 120_000,
  }, async () => {
    const created = await chronoverse([
      'workflows',
      'create',
      '-f',
      workflowFile('cli lifecycle', ['true']),
      '--json',
    ]);
    expect(created.code, created.stderr).toBe(0);
    const { id } = JSON.parse(created.stdout) as { id: string };

    const updateFile = join(home, 'update.json');
    writeFileSync(updateFile, JSON.stringify({ name: 'cli lifecycle renamed' }));
    const updated = await chronoverse(['workflows', 'update', id, '-f', updateFile, '--json']);
    expect(updated.code, updated.stderr).toBe(0);
    expect(JSON.parse(updated.stdout)).toMatchObject({ id, name: 'cli lifecycle renamed' });

    expect((await chronoverse(['workflows', 'pause', id])).stdout.trim()).toBe(`${id} PAUSED`);
    expect((await chronoverse(['workflows', 'resume', id])).stdout.trim()).toBe(`${id} ACTIVE`);

    const history = JSON.parse((await chronoverse(['history', id, '--json'])).stdout) as {
      type: string;
      api_key_id: string | null;
    }[];
    expect(history.map((e) => e.type)).toEqual(
      expect.arrayContaining(['WorkflowCreated', 'WorkflowUpdated', 'WorkflowPaused', 'WorkflowResumed']),
    );
    expect(history.find((e) => e.type === 'WorkflowPaused')?.api_key_id).toMatch(/^[0-9a-f-]{36}$/);
    const historyTable = await chronoverse(['history', id]);
    expect(historyTable.stdout).toMatch(/^SEQ\s+TIME\s+TYPE\s+API KEY/);

    // Not terminated yet: the API refuses (412), exit 5.
    expect((await chronoverse(['workflows', 'delete', id])).code).toBe(5);
    expect((await chronoverse(['workflows', 'terminate', id])).code).toBe(0);
    const deleted = await chronoverse(['workflows', 'delete', id]);
    expect(deleted.code, deleted.stderr).toBe(0);
    expect((await chronoverse(['workflows', 'get', id])).code).toBe(4);
  });

  it('reports an invalid file (exit 2), a refused one (exit 5) and an unreachable API (exit 6)', async () => {
    const garbage = join(home, 'garbage.json');
    writeFileSync(garbage, '{ not json');
    expect((await chronoverse(['workflows', 'create', '-f', garbage])).code).toBe(2);
    const invalid = join(home, 'invalid.json');
    writeFileSync(invalid, JSON.stringify({ name: 'x', kind: 'CONTAINER' }));
    const refused = await chronoverse(['workflows', 'create', '-f', invalid, '--json']);
    expect(refused.code).toBe(5);
    expect(JSON.parse(refused.stderr)).toMatchObject({ error: { code: 'validation_failed' } });
    const down = await chronoverse(['workflows', 'list'], {
      env: { CHRONOVERSE_API_URL: 'http://127.0.0.1:9' },
    });
    expect(down.code).toBe(6);
  });
});
