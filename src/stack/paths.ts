// Where the local stack keeps its data, binaries and sockets, and the ports it listens on. The ports
// are the project's own (not 4222/5432/8123) so it never collides with services a machine already runs.
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const projectRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
export const dataDir = join(projectRoot, '.data');
/** Downloaded tools (nats-server 2.10) survive `stack reset`, which wipes only `.data/`. */
export const toolsDir = join(projectRoot, '.tools');
export const stackStateFile = join(dataDir, 'stack.json');

export const stackPorts = {
  nats: 14222,
  natsMonitor: 18222,
  postgres: 15432,
  clickhouseHttp: 18123,
  clickhouseTcp: 19000,
  clickhouseInterserver: 19009,
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
