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

export const localDefaults = {
  natsUrl: `nats://127.0.0.1:${stackPorts.nats}`,
  databaseUrl: `postgres://postgres@127.0.0.1:${stackPorts.postgres}/chronoverse`,
  clickhouseUrl: `http://127.0.0.1:${stackPorts.clickhouseHttp}`,
  dockerHost: `unix://${dockerDirs.socket}`,
  testImage: 'chronoverse/busybox:local',
};
