// Where the local stack keeps its data, binaries and sockets, and the ports it listens on. The ports
// are the project's own (not 4222/5432/8123) so it never collides with services a machine already runs.
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const projectRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
/** CV_STACK_DATA_DIR and CV_STACK_PORT_OFFSET let a second stack run beside the first (the stack's own tests). */
export const dataDir = process.env.CV_STACK_DATA_DIR || join(projectRoot, '.data');
const portOffset = Number(process.env.CV_STACK_PORT_OFFSET || 0);
/** Downloaded tools (nats-server 2.10) survive `stack reset`, which wipes only `.data/`. */
export const toolsDir = join(projectRoot, '.tools');
export const stackStateFile = join(dataDir, 'stack.json');

export const stackPorts = {
  nats: 14222 + portOffset,
  natsMonitor: 18222 + portOffset,
  /** Cluster mode: node i (from 0) listens on nats + i, natsMonitor + i and natsCluster + i. */
  natsCluster: 16222 + portOffset,
  postgres: 15432 + portOffset,
  clickhouseHttp: 18123 + portOffset,
  clickhouseTcp: 19000 + portOffset,
  clickhouseInterserver: 19009 + portOffset,
} as const;

export const dockerDirs = {
  data: join(dataDir, 'docker', 'data'),
  exec: join(dataDir, 'docker', 'exec'),
  socket: join(dataDir, 'docker', 'docker.sock'),
  pidFile: join(dataDir, 'docker', 'docker.pid'),
};

/**
 * Nodes of the stack's NATS: CV_STACK_NATS_CLUSTER (or `stack up --nats-cluster N`) runs a cluster of
 * that many nats-servers instead of one; unset or 1, one server.
 */
export function natsClusterSize(env: NodeJS.ProcessEnv = process.env): number {
  const raw = env.CV_STACK_NATS_CLUSTER;
  if (!raw) return 1;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1 || n > 7) {
    throw new Error(`CV_STACK_NATS_CLUSTER must be a number of nodes from 1 to 7, not "${raw}"`);
  }
  return n;
}

/** Every node's client address, comma-separated: a client reaches the cluster whichever node is down. */
export function stackNatsUrl(size = natsClusterSize()): string {
  return Array.from({ length: size }, (_, i) => `nats://127.0.0.1:${stackPorts.nats + i}`).join(',');
}

export const localDefaults = {
  natsUrl: stackNatsUrl(),
  databaseUrl: `postgres://postgres@127.0.0.1:${stackPorts.postgres}/chronoverse`,
  clickhouseUrl: `http://127.0.0.1:${stackPorts.clickhouseHttp}`,
  dockerHost: `unix://${dockerDirs.socket}`,
  testImage: 'chronoverse/busybox:local',
};
