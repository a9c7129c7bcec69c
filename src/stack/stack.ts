// `chronoverse stack up|down|status|reset`: the local stack of real services. `up` is idempotent (a
// running instance of ours is reused), `down` stops exactly the pids it started, `reset` wipes .data/.
// A service whose URL the environment names (NATS_URL, DATABASE_URL, CLICKHOUSE_URL, DOCKER_HOST) is
// external: the stack starts none for it.
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { dataDir, localDefaults, stackStateFile } from './paths.ts';
import { isOurProcess, stopProcess, waitUntil } from './process-control.ts';
import { clickhouseService } from './services/clickhouse-service.ts';
import { dockerService } from './services/docker-service.ts';
import type { LocalService } from './services/local-service.ts';
import { natsService } from './services/nats-service.ts';
import { postgresDataDir, postgresService } from './services/postgres-service.ts';
import { ensureSystemPackages, type ServiceName } from './system-packages.ts';
import { ensureTestImage } from './test-image.ts';

type StackState = Partial<Record<ServiceName, { pid: number }>>;

const allServices: readonly LocalService[] = [natsService, postgresService, clickhouseService, dockerService];

const externalVariable: Record<ServiceName, string> = {
  nats: 'NATS_URL',
  postgres: 'DATABASE_URL',
  clickhouse: 'CLICKHOUSE_URL',
  docker: 'DOCKER_HOST',
};

export function managedServices(env: NodeJS.ProcessEnv = process.env): LocalService[] {
  return allServices.filter((s) => !env[externalVariable[s.name]]);
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

export async function stackUp(log: (m: string) => void = console.log): Promise<void> {
  const services = managedServices();
  await ensureSystemPackages(
    services.map((s) => s.name),
    log,
  );
  mkdirSync(join(dataDir, 'logs'), { recursive: true });
  const state = readState();
  // Start every daemon first, then wait for all: their start-ups overlap.
  const starting: LocalService[] = [];
  for (const service of services) {
    const known = state[service.name]?.pid;
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
    log(`starting ${service.name} …`);
    state[service.name] = { pid: await service.start(log) };
    writeState(state);
    starting.push(service);
  }
  await Promise.all(
    starting.map((s) =>
      waitUntil(`${s.name} (log: .data/logs, pid ${state[s.name]?.pid})`, () => s.isReady(), 90_000),
    ),
  );
  for (const service of services) await service.afterReady?.(log);
  if (process.env.DOCKER_HOST)
    await ensureTestImage(process.env.DOCKER_HOST, log).catch((err) => log(`warning: ${err}`));
  log(`stack up: ${services.map((s) => `${s.name} ${s.address}`).join(', ') || 'every service is external'}`);
}

export async function stackDown(log: (m: string) => void = console.log): Promise<void> {
  const state = readState();
  for (const service of [...allServices].reverse()) {
    const pid = state[service.name]?.pid;
    if (isOurProcess(pid, service.marker)) {
      log(`stopping ${service.name} (pid ${pid}) …`);
      await stopProcess(pid, service.stopSignal);
    }
    delete state[service.name];
  }
  if (existsSync(dataDir)) writeState(state);
}

export interface ServiceStatus {
  name: ServiceName;
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
  return Promise.all(
    allServices.map(async (s) => {
      const pid = state[s.name]?.pid;
      return {
        name: s.name,
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
