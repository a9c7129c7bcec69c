// The local stack's cluster mode with real daemons, in a private stack (its own folder and ports) where
// only NATS is managed: three nats-servers with their own names, stores and routes, one JetStream
// cluster; a second `up` reuses them, a single-server `up` refuses while they run, `down` stops them.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/config.ts';
import { isAlive, waitUntil } from '../../src/stack/process-control.ts';
import { cli } from '../support/role-process.ts';

const dataDir = mkdtempSync(join(tmpdir(), 'cv-stack-cluster-'));
const shared = loadConfig();
/** The shared stack's port offset (the one `npm test` started), and this test's own beside it. */
const SHARED_OFFSET = Number(process.env.CV_STACK_PORT_OFFSET || 0);
const OWN_OFFSET = SHARED_OFFSET + 800;
const natsPort = (node: number) => 14222 + OWN_OFFSET + node;
const monitorPort = (node: number) => 18222 + OWN_OFFSET + node;
const env = {
  ...process.env,
  CV_STACK_DATA_DIR: dataDir,
  CV_STACK_PORT_OFFSET: String(OWN_OFFSET),
  DATABASE_URL: shared.DATABASE_URL,
  CLICKHOUSE_URL: shared.CLICKHOUSE_URL,
  DOCKER_HOST: shared.DOCKER_HOST,
  NATS_URL: '',
};

function chronoverse(extra: Record<string, string>, ...args: string[]) {
  const r = spawnSync(...cli(...args), { env: { ...env, ...extra }, encoding: 'utf8', timeout: 120_000 });
  return { code: r.status, out: `${r.stdout}${r.stderr}` };
}

const pids = () =>
  Object.entries(
    JSON.parse(readFileSync(join(dataDir, 'stack.json'), 'utf8')) as Record<string, { pid: number }>,
  )
    .filter(([k]) => k.startsWith('nats'))
    .map(([k, v]) => [k, v.pid] as const);

afterAll(() => {
  chronoverse({}, 'stack', 'down');
  rmSync(dataDir, { recursive: true, force: true });
});

describe('local stack, NATS cluster mode', () => {
  it('starts three routed nodes, reuses them, refuses the single server beside them, stops them', {
    timeout: 150_000,
  }, async () => {
    const up = chronoverse({}, 'stack', 'up', '--nats-cluster', '3');
    expect(up.code, up.out).toBe(0);
    expect(up.out).toContain('starting nats-n1');
    expect(up.out).toContain(
      `NATS_URL=nats://127.0.0.1:${natsPort(0)},nats://127.0.0.1:${natsPort(1)},nats://127.0.0.1:${natsPort(2)}`,
    );
    const started = pids();
    expect(started.map(([k]) => k)).toEqual(['nats-n1', 'nats-n2', 'nats-n3']);

    // One JetStream meta group of the three named nodes (on a loaded machine the third may join a
    // moment after `up` returns).
    type Jsz = { meta_cluster: { name: string; cluster_size: number; replicas?: { name: string }[] } };
    let jsz: Jsz | undefined;
    await waitUntil(
      'a meta group of three',
      async () => {
        jsz = (await (await fetch(`http://127.0.0.1:${monitorPort(0)}/jsz`)).json()) as Jsz;
        return jsz.meta_cluster.cluster_size === 3;
      },
      30_000,
    ).catch(() => {});
    if (!jsz) throw new Error('no /jsz answer');
    expect(jsz.meta_cluster.name).toBe('chronoverse');
    expect(jsz.meta_cluster.cluster_size).toBe(3);
    for (const port of [monitorPort(0), monitorPort(1), monitorPort(2)]) {
      const varz = (await (await fetch(`http://127.0.0.1:${port}/varz`)).json()) as {
        server_name: string;
        cluster: { urls?: string[] };
      };
      expect(varz.server_name).toBe(`n${port - monitorPort(0) + 1}`);
      expect(varz.cluster.urls).toHaveLength(2);
    }

    const again = chronoverse({ CV_STACK_NATS_CLUSTER: '3' }, 'stack', 'up');
    expect(again.code, again.out).toBe(0);
    expect(again.out).not.toContain('starting');
    expect(pids()).toEqual(started);

    const status = chronoverse({}, 'stack', 'status');
    expect(status.out).toMatch(
      new RegExp(`^nats-n2\\s+ready\\s+pid \\d+ running\\s+nats://127\\.0\\.0\\.1:${natsPort(1)}`, 'm'),
    );

    const single = chronoverse({}, 'stack', 'up');
    expect(single.code).toBe(1);
    expect(single.out).toContain("this stack's cluster is running");

    const down = chronoverse({}, 'stack', 'down');
    expect(down.code, down.out).toBe(0);
    for (const [, pid] of started) expect(isAlive(pid)).toBe(false);
    // The shared stack's NATS (a different process) is still there.
    expect((await fetch(`http://127.0.0.1:${18222 + SHARED_OFFSET}/healthz`)).ok).toBe(true);
  });
});
