// `chronoverse stack up|down|status|reset`: the local stack of real services. `up` is idempotent (a
// running instance of ours is reused), `down` stops exactly the pids it started, `reset` wipes .data/.
// A service whose URL the environment names (NATS_URL, DATABASE_URL, CLICKHOUSE_URL, DOCKER_HOST) is
// external: the stack starts none for it. In cluster mode (CV_STACK_NATS_CLUSTER=3 or
// `stack up --nats-cluster 3`) NATS is that many nats-servers routed to each other (nats-n1 …).
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { dataDir, localDefaults, natsClusterSize, stackNatsUrl, stackStateFile } from './paths.ts';
import { isOurProcess, stopProcess, waitUntil } from './process-control.ts';
import { clickhouseService } from './services/clickhouse-service.ts';
import { dockerService } from './services/docker-service.ts';
import type { LocalService } from './services/local-service.ts';
import { natsClusterServices, natsService } from './services/nats-service.ts';
import { postgresDataDir, postgresService } from './services/postgres-service.ts';
import { ensureSystemPackages, type ServiceName } from './system-packages.ts';
import { ensureTestImage } from './test-image.ts';

/** The pid of each service we started, by its id (`nats-n1` for a cluster's node) or name. */
type StackState = Partial<Record<string, { pid: number }>>;

const keyOf = (s: LocalService): string => s.id ?? s.name;

/** One nats-server, or the nodes of a cluster of `natsNodes`. */
function allServices(natsNodes: number): LocalService[] {
  const nats = natsNodes > 1 ? natsClusterServices(natsNodes) : [natsService];
  return [...nats, postgresService, clickhouseService, dockerService];
}

/** Every service this stack may have started, in either mode: what `down` and `status` look at. */
function knownServices(state: StackState): LocalService[] {
  const nodes = Object.keys(state).filter((k) => /^nats-n\d+$/.test(k)).length;
  return [
    natsService,
    ...(nodes > 0 ? natsClusterServices(nodes) : []),
    postgresService,
    clickhouseService,
    dockerService,
  ];
}

const externalVariable: Record<ServiceName, string> = {
  nats: 'NATS_URL',
  postgres: 'DATABASE_URL',
  clickhouse: 'CLICKHOUSE_URL',
  docker: 'DOCKER_HOST',
};

export function managedServices(
  env: NodeJS.ProcessEnv = process.env,
  natsNodes = natsClusterSize(env),
): LocalService[] {
  return allServices(natsNodes).filter((s) => !env[externalVariable[s.name]]);
}

function readState(): StackState {
  try {
    return JSON.parse(readFileSync(stackStateFile, 'utf8')) as StackState;
  } catch {
    return {};
  }
}

function writeState(state: StackState): void {
  mkdirSync(dataDir, { recursive: true });
  writeFileSync(stackStateFile, `${JSON.stringify(state, null, 2)}\n`);
}

async function answers(service: LocalService): Promise<boolean> {
  return service.isReady().catch(() => false);
}

export async function stackUp(
  log: (m: string) => void = console.log,
  options: { natsNodes?: number } = {},
): Promise<void> {
  const natsNodes = options.natsNodes ?? natsClusterSize();
  const services = managedServices(process.env, natsNodes);
  await ensureSystemPackages([...new Set(services.map((s) => s.name))], log);
  mkdirSync(join(dataDir, 'logs'), { recursive: true });
  const state = readState();
  // The single server and the cluster share node 1's ports; each has its own store.
  const otherMode =
    natsNodes > 1 ? [natsService] : knownServices(state).filter((s) => s.id?.startsWith('nats-n'));
  for (const other of otherMode) {
    if (services.some((s) => s.name === 'nats') && isOurProcess(state[keyOf(other)]?.pid, other.marker)) {
      throw new Error(
        `nats: this stack's ${natsNodes > 1 ? 'single server' : 'cluster'} is running; \`stack down\` first (its data stays in .data/)`,
      );
    }
  }
  // Start every daemon first, then wait for all: their start-ups overlap.
  const starting: LocalService[] = [];
  for (const service of services) {
    const known = state[keyOf(service)]?.pid;
    if (isOurProcess(known, service.marker)) {
      if (await answers(service)) continue;
      starting.push(service); // ours, still coming up
      continue;
    }
    if (await answers(service)) {
      throw new Error(
        `${service.name}: something that is not this stack already answers at ${service.address}; stop it or set ${externalVariable[service.name]} to use it`,
      );
    }
    log(`starting ${keyOf(service)} …`);
    state[keyOf(service)] = { pid: await service.start(log) };
    writeState(state);
    starting.push(service);
  }
  await Promise.all(
    starting.map((s) =>
      waitUntil(`${keyOf(s)} (log: .data/logs, pid ${state[keyOf(s)]?.pid})`, () => s.isReady(), 90_000),
    ),
  );
  for (const service of services) await service.afterReady?.(log);
  if (process.env.DOCKER_HOST)
    await ensureTestImage(process.env.DOCKER_HOST, log).catch((err) => log(`warning: ${err}`));
  log(
    `stack up: ${services.map((s) => `${keyOf(s)} ${s.address}`).join(', ') || 'every service is external'}`,
  );
  if (natsNodes > 1 && !process.env.NATS_URL) {
    log(
      `NATS cluster of ${natsNodes}: give the roles NATS_URL=${stackNatsUrl(natsNodes)} (or CV_STACK_NATS_CLUSTER=${natsNodes})`,
    );
  }
}

export async function stackDown(log: (m: string) => void = console.log): Promise<void> {
  const state = readState();
  const stop = async (service: LocalService) => {
    const pid = state[keyOf(service)]?.pid;
    if (isOurProcess(pid, service.marker)) {
      log(`stopping ${keyOf(service)} (pid ${pid}) …`);
      await stopProcess(pid, service.stopSignal);
    }
    delete state[keyOf(service)];
  };
  const services = knownServices(state).reverse();
  for (const service of services.filter((s) => s.name !== 'nats')) await stop(service);
  // The nodes of a cluster together: each takes seconds to leave it.
  await Promise.all(services.filter((s) => s.name === 'nats').map(stop));
  if (existsSync(dataDir)) writeState(state);
}

export interface ServiceStatus {
  /** The service, or the node (`nats-n2`) of a cluster. */
  name: string;
  managed: boolean;
  pid: number | undefined;
  running: boolean;
  /** Whether it answers; undefined for an external service, which `roles`' /readyz checks instead. */
  ready: boolean | undefined;
  address: string;
}

export async function stackStatus(): Promise<ServiceStatus[]> {
  const state = readState();
  const managed = new Set(managedServices().map((s) => s.name));
  // The mode that runs, or the configured one when nothing of NATS does.
  const running = knownServices(state).filter(
    (s) => s.name === 'nats' && isOurProcess(state[keyOf(s)]?.pid, s.marker),
  );
  const nats = running.length > 0 ? running : allServices(natsClusterSize()).filter((s) => s.name === 'nats');
  const services = [...nats, postgresService, clickhouseService, dockerService];
  return Promise.all(
    services.map(async (s) => {
      const pid = state[keyOf(s)]?.pid;
      return {
        name: keyOf(s),
        managed: managed.has(s.name),
        pid,
        running: isOurProcess(pid, s.marker),
        ready: managed.has(s.name) ? await answers(s) : undefined,
        address: managed.has(s.name) ? s.address : String(process.env[externalVariable[s.name]]),
      };
    }),
  );
}

export async function stackReset(log: (m: string) => void = console.log): Promise<void> {
  await stackDown(log);
  rmSync(dataDir, { recursive: true, force: true });
  rmSync(postgresDataDir(), { recursive: true, force: true }); // outside .data/ when postgres cannot reach it
  log('.data/ wiped');
}

export { localDefaults };
