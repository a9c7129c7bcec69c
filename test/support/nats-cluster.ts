// A private 3-node NATS cluster per test file (loopback ports, temporary stores), with the same 2.10
// binary as the local stack, whose nodes can be SIGKILLed and restarted one by one on their own store.
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
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
  /**
   * Only the partitionable node (the last, with `partitionable`): its link to the others and to every
   * client is cut (the veth taken down: the node runs on, unreachable) and made whole again.
   */
  cutOff(): Promise<void>;
  heal(): Promise<void>;
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

/**
 * `step` (a connection, the streams' creation) on a cluster just formed, asked again until `withinMs`
 * has passed. A stream's first create at R3 on a fresh meta group, or JetStream's first answer, can
 * outlast one request's timeout on a loaded machine (a CI trial failed in a test's setup on that),
 * and both are asked again in a deployment too (`chronoverse migrate` run again, a role restarted).
 */
export async function untilClusterAnswers<T>(step: () => Promise<T>, withinMs = 60_000): Promise<T> {
  const deadline = Date.now() + withinMs;
  for (;;) {
    try {
      return await step();
    } catch (err) {
      if (Date.now() > deadline) throw err;
      await new Promise((r) => setTimeout(r, 1000));
    }
  }
}

/** Every node still running when the test worker exits is killed: a failed test leaves none behind. */
const children = new Set<ChildProcess>();
process.once('exit', () => {
  for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
});

/** Network namespaces still set up when the test worker exits are removed (with their veth pairs). */
const namespaces = new Set<string>();
process.once('exit', () => {
  for (const ns of namespaces) spawnSync('ip', ['netns', 'del', ns]);
});

function ip(...args: string[]): void {
  const r = spawnSync('ip', args, { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`ip ${args.join(' ')}: ${r.stderr || r.error}`);
}

/**
 * The last node in a network namespace of its own, joined to this one by a veth pair: the other nodes
 * listen on this side's address, it on the other side's. Taking this side's end down partitions it
 * from the others and from every client, while its process runs on. Needs root (ip netns).
 */
function isolatedNetwork() {
  const id = `${process.pid % 10_000}${Math.floor(Math.random() * 100)}`;
  const subnet = `10.${200 + Math.floor(Math.random() * 50)}.${Math.floor(Math.random() * 250)}`;
  const ns = `cvp${id}`;
  const [hostEnd, nsEnd] = [`cvh${id}`, `cvn${id}`];
  ip('netns', 'add', ns);
  namespaces.add(ns);
  ip('link', 'add', hostEnd, 'type', 'veth', 'peer', 'name', nsEnd);
  ip('link', 'set', nsEnd, 'netns', ns);
  ip('addr', 'add', `${subnet}.1/24`, 'dev', hostEnd);
  ip('link', 'set', hostEnd, 'up');
  ip('netns', 'exec', ns, 'ip', 'addr', 'add', `${subnet}.2/24`, 'dev', nsEnd);
  ip('netns', 'exec', ns, 'ip', 'link', 'set', nsEnd, 'up');
  ip('netns', 'exec', ns, 'ip', 'link', 'set', 'lo', 'up');
  return {
    ns,
    hostSide: `${subnet}.1`,
    nsSide: `${subnet}.2`,
    cut: () => ip('link', 'set', hostEnd, 'down'),
    heal: () => ip('link', 'set', hostEnd, 'up'),
    dispose: () => {
      spawnSync('ip', ['netns', 'del', ns]);
      spawnSync('ip', ['link', 'del', hostEnd]);
      namespaces.delete(ns);
    },
  };
}

export async function startNatsCluster(
  size = 3,
  options: { partitionable?: boolean } = {},
): Promise<TestNatsCluster> {
  const binary = await resolveNatsServer(() => {});
  const root = mkdtempSync(join(tmpdir(), 'cv-nats-cluster-'));
  const network = options.partitionable ? isolatedNetwork() : undefined;
  const specs: NatsClusterNode[] = [];
  for (let i = 0; i < size; i++) {
    const name = `n${i + 1}`;
    const last = i === size - 1;
    specs.push({
      name,
      clientPort: await freePort(),
      monitorPort: await freePort(),
      clusterPort: await freePort(),
      storeDir: join(root, name),
      ...(network ? { host: last ? network.nsSide : network.hostSide } : {}),
    });
  }
  const logFileOf = (name: string) => join(root, `${name}.log`);
  const nodes = specs.map((spec): TestClusterNode => {
    const configFile = join(root, `${spec.name}.conf`);
    mkdirSync(spec.storeDir, { recursive: true });
    writeFileSync(configFile, natsClusterNodeConfig(spec, specs));
    let child: ChildProcess | undefined;
    const host = spec.host ?? '127.0.0.1';
    const isolated = network !== undefined && spec === specs.at(-1);
    const node: TestClusterNode = {
      name: spec.name,
      url: `nats://${host}:${spec.clientPort}`,
      monitorUrl: `http://${host}:${spec.monitorPort}`,
      get running() {
        return child !== undefined && child.exitCode === null && child.signalCode === null;
      },
      get pid() {
        return node.running ? child?.pid : undefined;
      },
      async cutOff() {
        if (!isolated) throw new Error(`${spec.name} is not the partitionable node`);
        network.cut();
      },
      async heal() {
        if (!isolated) throw new Error(`${spec.name} is not the partitionable node`);
        network.heal();
      },
      async start() {
        // Each node logs to a file beside its store, so a cluster that does not form says why.
        const serverArgs = [binary, '-c', configFile, '-l', logFileOf(spec.name)];
        const [command, args] = isolated
          ? ['ip', ['netns', 'exec', network.ns, ...serverArgs]]
          : [serverArgs[0]!, serverArgs.slice(1)];
        const c = spawn(command, args, { stdio: 'ignore', env: natsServerEnv() });
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
  // Streams can be placed on every node once the meta group has a leader and every peer is current
  // (only the leader's /jsz lists the peers).
  const metaGroupFormed = async () => {
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
  };
  // Now and then (twice in about ten starts on this 2-core machine, 2026-12-06) nats-server 2.10 bootstraps
  // its meta group with two of three fresh nodes and the third never joins: the cluster is started
  // again on empty stores, which is what a new cluster is. The tests are about what runs on a formed
  // cluster, not its first boot.
  for (let attempt = 1; ; attempt++) {
    await Promise.all(nodes.map((n) => n.start()));
    try {
      await waitUntil('JetStream meta group of every node', metaGroupFormed, 12_000);
      break;
    } catch (err) {
      const tails = specs.map((n) => {
        const log = existsSync(logFileOf(n.name)) ? readFileSync(logFileOf(n.name), 'utf8') : '(no log)';
        return `--- ${n.name}:\n${log.split('\n').slice(-15).join('\n')}`;
      });
      await Promise.all(nodes.map((n) => n.stop('SIGKILL')));
      if (attempt >= 3) {
        network?.dispose();
        throw new Error(`${String(err)} (${attempt} starts)\n${tails.join('\n')}`);
      }
      for (const spec of specs) {
        rmSync(spec.storeDir, { recursive: true, force: true });
        mkdirSync(spec.storeDir, { recursive: true });
      }
    }
  }
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
      network?.dispose();
      rmSync(root, { recursive: true, force: true });
    },
  };
}
