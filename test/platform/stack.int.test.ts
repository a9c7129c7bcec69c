// The stack's lifecycle with real daemons: a second, private stack (its own folder and ports) where
// only NATS is managed and the other services are named as external, so the shared stack is untouched.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/config.ts';
import { isAlive } from '../../src/stack/process-control.ts';
import { cli } from '../support/role-process.ts';

const dataDir = mkdtempSync(join(tmpdir(), 'cv-stack-'));
const shared = loadConfig();
/** The shared stack's port offset (the one `npm test` started), and this test's own beside it. */
const SHARED_OFFSET = Number(process.env.CV_STACK_PORT_OFFSET || 0);
const OWN_OFFSET = SHARED_OFFSET + 700;
const env = {
  ...process.env,
  CV_STACK_DATA_DIR: dataDir,
  CV_STACK_PORT_OFFSET: String(OWN_OFFSET),
  DATABASE_URL: shared.DATABASE_URL,
  CLICKHOUSE_URL: shared.CLICKHOUSE_URL,
  DOCKER_HOST: shared.DOCKER_HOST,
};

function chronoverse(...args: string[]) {
  const r = spawnSync(...cli(...args), {
    env,
    encoding: 'utf8',
    timeout: 120_000,
  });
  return { code: r.status, out: `${r.stdout}${r.stderr}` };
}

const natsPid = () =>
  (JSON.parse(readFileSync(join(dataDir, 'stack.json'), 'utf8')) as { nats?: { pid: number } }).nats?.pid;

afterAll(() => {
  chronoverse('stack', 'down');
  rmSync(dataDir, { recursive: true, force: true });
});

describe('local stack', () => {
  it('starts only what is not external, reuses it on a second up, and stops exactly its own pid', async () => {
    const up = chronoverse('stack', 'up');
    expect(up.code, up.out).toBe(0);
    expect(up.out).toContain('starting nats');
    expect(up.out).not.toContain('starting postgres');
    const pid = natsPid();
    expect(pid && isAlive(pid)).toBe(true);
    expect((await fetch(`http://127.0.0.1:${18222 + OWN_OFFSET}/healthz`)).ok).toBe(true);

    const again = chronoverse('stack', 'up');
    expect(again.code, again.out).toBe(0);
    expect(again.out).not.toContain('starting');
    expect(natsPid()).toBe(pid);

    const status = chronoverse('stack', 'status');
    expect(status.code, status.out).toBe(0);
    expect(status.out).toMatch(/^nats\s+ready\s+pid \d+ running/m);
    expect(status.out).toMatch(/^postgres\s+-\s+external/m);

    const down = chronoverse('stack', 'down');
    expect(down.code, down.out).toBe(0);
    expect(isAlive(pid!)).toBe(false);
    // The shared stack's NATS (a different process) is still there.
    expect((await fetch(`http://127.0.0.1:${18222 + SHARED_OFFSET}/healthz`)).ok).toBe(true);

    expect(chronoverse('stack', 'reset').code).toBe(0);
    expect(existsSync(dataDir)).toBe(false);
  });

  it('refuses to start when a stranger already answers on its port', () => {
    const clash = spawnSync(...cli('stack', 'up'), {
      // The shared stack's ports: its NATS answers there, and is not this data folder's.
      env: {
        ...env,
        CV_STACK_DATA_DIR: mkdtempSync(join(tmpdir(), 'cv-stack-')),
        CV_STACK_PORT_OFFSET: String(SHARED_OFFSET),
      },
      encoding: 'utf8',
    });
    expect(clash.status).toBe(1);
    expect(clash.stderr).toContain('nats: something that is not this stack already answers');
  });

  it('stops a role at start with the name of each bad variable', () => {
    const r = spawnSync(...cli('api'), {
      env: { ...process.env, CV_HTTP_PORT: 'eighty', NATS_URL: '', DATABASE_URL: 'mysql://x' },
      encoding: 'utf8',
    });
    expect(r.status).toBe(1);
    expect(r.stderr).toContain('CV_HTTP_PORT');
    expect(r.stderr).toContain('DATABASE_URL: must be a URL starting with postgres://');
  });
});
