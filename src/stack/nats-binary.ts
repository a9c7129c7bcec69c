// Finds a nats-server of version 2.10 or later. Debian 12 ships 2.9.10, which predates fixes for
// stream loss and lacks multi-filter consumers, so on Debian we fetch trixie's 2.10 package through a
// private apt configuration (the system's apt sources stay untouched) and unpack it under .tools/.
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { toolsDir } from './paths.ts';
import { runChecked, runCommand } from './run-command.ts';
import { isDebian, isRoot } from './system-packages.ts';

const privateNats = join(toolsDir, 'nats-server', 'usr', 'sbin', 'nats-server');

export function parseNatsVersion(output: string): [number, number, number] | undefined {
  const m = /v?(\d+)\.(\d+)\.(\d+)/.exec(output);
  return m ? [Number(m[1]), Number(m[2]), Number(m[3])] : undefined;
}

async function versionOf(binary: string): Promise<[number, number, number] | undefined> {
  const r = await runCommand(binary, ['--version']).catch(() => undefined);
  return r?.code === 0 ? parseNatsVersion(r.stdout + r.stderr) : undefined;
}

const atLeast210 = (v: [number, number, number] | undefined) =>
  v !== undefined && (v[0] > 2 || (v[0] === 2 && v[1] >= 10));

/** The Debian archive URI the system already uses, so the private fetch goes where apt already goes. */
export function debianArchiveUri(sourcesTexts: readonly string[]): string {
  for (const text of sourcesTexts) {
    for (const m of text.matchAll(/^\s*(?:URIs:|deb(?:\s+\[[^\]]*\])?)\s+(\S+)/gm)) {
      const uri = m[1]!.replace(/\/+$/, '');
      if (uri.endsWith('/debian')) return uri;
    }
  }
  return 'http://deb.debian.org/debian';
}

function systemSourcesTexts(): string[] {
  const files = [
    '/etc/apt/sources.list',
    ...listDir('/etc/apt/sources.list.d').map((f) => `/etc/apt/sources.list.d/${f}`),
  ];
  return files.flatMap((f) => {
    try {
      return [readFileSync(f, 'utf8')];
    } catch {
      return [];
    }
  });
}

function listDir(dir: string): string[] {
  try {
    return readdirSync(dir);
  } catch {
    return [];
  }
}

async function fetchFromTrixie(log: (m: string) => void): Promise<void> {
  const work = join(toolsDir, 'apt-trixie');
  mkdirSync(join(work, 'lists', 'partial'), { recursive: true });
  mkdirSync(join(work, 'sources'), { recursive: true });
  mkdirSync(join(work, 'archives', 'partial'), { recursive: true });
  writeFileSync(
    join(work, 'sources', 'trixie.sources'),
    `Types: deb\nURIs: ${debianArchiveUri(systemSourcesTexts())}\nSuites: trixie\nComponents: main\nSigned-By: /usr/share/keyrings/debian-archive-keyring.gpg\n`,
  );
  const opts = [
    '-o',
    'Dir::Etc::sourcelist=/dev/null',
    '-o',
    `Dir::Etc::sourceparts=${join(work, 'sources')}`,
    '-o',
    `Dir::State::Lists=${join(work, 'lists')}`,
    '-o',
    `Dir::Cache::archives=${join(work, 'archives')}`,
    '-o',
    'APT::Sandbox::User=root',
  ];
  log('fetching nats-server 2.10 from Debian trixie into .tools/ …');
  await runChecked('apt-get', [...opts, 'update']);
  await runChecked('apt-get', [...opts, 'download', 'nats-server'], { cwd: work });
  const deb = listDir(work).find((f) => f.startsWith('nats-server_') && f.endsWith('.deb'));
  if (!deb) throw new Error('apt-get download nats-server produced no .deb');
  await runChecked('dpkg', ['-x', join(work, deb), join(toolsDir, 'nats-server')]);
}

/** Path of the nats-server binary to run; prefers 2.10+, falls back to the system's with a warning. */
export async function resolveNatsServer(log: (m: string) => void): Promise<string> {
  if (existsSync(privateNats) && atLeast210(await versionOf(privateNats))) return privateNats;
  const system = '/usr/sbin/nats-server';
  if (atLeast210(await versionOf(system))) return system;
  if (isDebian() && isRoot()) {
    try {
      await fetchFromTrixie(log);
      if (atLeast210(await versionOf(privateNats))) return privateNats;
    } catch (err) {
      log(`could not fetch nats-server 2.10 (${String(err).slice(0, 300)}); falling back to the system's`);
    }
  }
  if (existsSync(system)) {
    log('warning: using nats-server < 2.10; multi-filter consumers and several fixes are missing');
    return system;
  }
  throw new Error('nats-server not found: install nats-server 2.10 or later, or set NATS_URL');
}

/**
 * The environment nats-server runs with: Go's collector at GOGC=400 (the default is 100) unless the
 * caller's environment sets GOGC. Memory for CPU: in the heartbeat benchmark (600 run-nows a second)
 * collecting a quarter as often cut nats-server's CPU per job by 8–14% (alternating runs: 0.80–0.82
 * against 0.90–0.93 ms; 0.61 against 0.67) and raised its peak RSS from 256 to 492 MiB.
 */
export function natsServerEnv(env: NodeJS.ProcessEnv = process.env): NodeJS.ProcessEnv {
  return { ...env, GOGC: env.GOGC ?? '400' };
}
