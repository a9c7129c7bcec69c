// A private 3-node NATS cluster per test file (loopback ports, temporary stores), with the same 2.10
// binary as the local stack, whose nodes can be SIGKILLed and restarted one by one on their own store.
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { JetStreamManager } from '@nats-io/jetstream';
import { natsServerEnv, resolveNatsServer } from '../../src/stack/nats-binary.ts';
import { type NatsClusterNode, natsClusterNodeConfig, natsClusterUrl } from '../../src/stack/nats-cluster.ts';
import { waitUntil } from '../../src/stack/process-control.ts';
import { freePort } from './nats-server.ts';

export interface TestClusterNode {
  readonly name: string;
  readonly url: string;
  readonly monitorUrl: string;
  readonly running: boolean;
  /** The node's process id while it runs (a benchmark reads its CPU time). */
  readonly pid: number | undefined;
  start(): Promise<void>;
  stop(signal?: NodeJS.Signals): Promise<void>;
}

export interface TestNatsCluster {
  /** Every node's address, comma-separated (NATS_URL). */
  readonly url: string;
  readonly nodes: readonly TestClusterNode[];
  node(name: string): TestClusterNode;
  /** The node that leads a stream now, as the JetStream API reports it. */
  leaderOf(jsm: JetStreamManager, stream: string): Promise<string | undefined>;
  dispose(): Promise<void>;
}

/** Every node still running when the test worker exits is killed: a failed test leaves none behind. */
const children = new Set<ChildProcess>();
process.once('exit', () => {
  for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
});

export async function startNatsCluster(size = 3): Promise<TestNatsCluster> {
  const binary = await resolveNatsServer(() => {});
  const root = mkdtempSync(join(tmpdir(), 'cv-nats-cluster-'));
  const specs: NatsClusterNode[] = [];
  for (let i = 0; i < size; i++) {
    const name = `n${i + 1}`;
    specs.push({
      name,
      clientPort: await freePort(),
      monitorPort: await freePort(),
      clusterPort: await freePort(),
      storeDir: join(root, name),
    });
  }
  const nodes = specs.map((spec): TestClusterNode => {
    const configFile = join(root, `${spec.name}.conf`);
    mkdirSync(spec.storeDir, { recursive: true });
    writeFileSync(configFile, natsClusterNodeConfig(spec, specs));
    let child: ChildProcess | undefined;
    const node: TestClusterNode = {
      name: spec.name,
      url: `nats://127.0.0.1:${spec.clientPort}`,
      monitorUrl: `http://127.0.0.1:${spec.monitorPort}`,
      get running() {
        return child !== undefined && child.exitCode === null && child.signalCode === null;
      },
      get pid() {
        return node.running ? child?.pid : undefined;
      },
      async start() {
        const c = spawn(binary, ['-c', configFile], { stdio: 'ignore', env: natsServerEnv() });
        child = c;
        children.add(c);
        c.once('exit', () => children.delete(c));
        await waitUntil(
          `nats node ${spec.name}`,
          async () => (await fetch(`${node.monitorUrl}/healthz?js-enabled-only=true`)).ok,
          30_000,
        );
      },
      async stop(signal = 'SIGTERM') {
        const c = child;
        if (!c || c.exitCode !== null || c.signalCode !== null) return;
        const exited = new Promise((r) => c.once('exit', r));
        c.kill(signal);
        await exited;
      },
    };
    return node;
  });
  await Promise.all(nodes.map((n) => n.start()));
  // Streams can be placed on every node once the meta group has a leader and every peer is current
  // (only the leader's /jsz lists the peers).
  await waitUntil(
    'JetStream meta group of every node',
    async () => {
      const reports = await Promise.all(
        nodes.map(async (n) => {
          const jsz = (await (await fetch(`${n.monitorUrl}/jsz`)).json()) as {
            meta_cluster?: { leader?: string; replicas?: { current: boolean; offline?: boolean }[] };
          };
          return jsz.meta_cluster;
        }),
      );
      return reports.some(
        (m) =>
          Boolean(m?.leader) &&
          m?.replicas?.length === size - 1 &&
          m.replicas.every((p) => p.current && !p.offline),
      );
    },
    30_000,
  );
  return {
    url: natsClusterUrl(specs),
    nodes,
    node: (name) => {
      const n = nodes.find((x) => x.name === name);
      if (!n) throw new Error(`no node ${name}`);
      return n;
    },
    async leaderOf(jsm, stream) {
      return (await jsm.streams.info(stream)).cluster?.leader;
    },
    async dispose() {
      await Promise.all(nodes.map((n) => n.stop('SIGKILL')));
      rmSync(root, { recursive: true, force: true });
    },
  };
}
