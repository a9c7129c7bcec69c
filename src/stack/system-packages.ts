// Makes sure the system packages the local stack needs are installed. On Debian as root it installs
// what is missing with apt; anywhere else it says exactly what to install (or to use compose.yaml).
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { runChecked, runCommand } from './run-command.ts';

export type ServiceName = 'nats' | 'postgres' | 'clickhouse' | 'docker';

const packagesFor: Record<ServiceName, readonly string[]> = {
  nats: ['nats-server'],
  postgres: ['postgresql'],
  clickhouse: ['clickhouse-server'],
  docker: ['docker.io', 'busybox-static'],
};

export function isDebian(): boolean {
  try {
    return /^ID=debian$/m.test(readFileSync('/etc/os-release', 'utf8'));
  } catch {
    return false;
  }
}

export function isRoot(): boolean {
  return process.getuid?.() === 0;
}

async function hasPackage(name: string): Promise<boolean> {
  // biome-ignore lint/suspicious/noTemplateCurlyInString: dpkg-query's own format syntax
  const r = await runCommand('dpkg-query', ['-W', '-f=${Status}', name]).catch(() => undefined);
  return r?.code === 0 && r.stdout.includes('install ok installed');
}

export function postgresBinDir(): string | undefined {
  const base = '/usr/lib/postgresql';
  if (!existsSync(base)) return undefined;
  const versions = readdirSync(base)
    .filter((v) => existsSync(`${base}/${v}/bin/initdb`))
    .sort((a, b) => Number(b) - Number(a));
  return versions[0] === undefined ? undefined : `${base}/${versions[0]}/bin`;
}

export async function ensureSystemPackages(
  services: readonly ServiceName[],
  log: (m: string) => void,
): Promise<void> {
  const wanted = services.flatMap((s) => packagesFor[s]);
  const missing: string[] = [];
  for (const pkg of wanted) if (!(await hasPackage(pkg))) missing.push(pkg);
  if (missing.length === 0) return;
  if (!isDebian() || !isRoot()) {
    throw new Error(
      [
        `The local stack needs these packages, which are not installed: ${missing.join(', ')}.`,
        'On Debian or Ubuntu as root:',
        `  apt-get update && apt-get install -y --no-install-recommends ${wanted.join(' ')}`,
        'Elsewhere, either run the services yourself and point Chronoverse at them with',
        '  NATS_URL, DATABASE_URL, CLICKHOUSE_URL and DOCKER_HOST (see the README), or use `docker compose up` with compose.yaml.',
      ].join('\n'),
    );
  }
  log(`installing ${missing.join(', ')} with apt (one to three minutes)…`);
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  await runChecked('apt-get', ['update'], { env });
  await runChecked('apt-get', ['install', '-y', '--no-install-recommends', ...missing], { env });
}
