// Where the command-line client keeps its API key and URL: a JSON file readable by its owner only
// (mode 0600, in a directory of mode 0700). CHRONOVERSE_CONFIG names another file; the URL comes from
// --api-url, CHRONOVERSE_API_URL, the file, then the local default; the key from CHRONOVERSE_API_KEY
// or the file.
import { chmod, mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { UnauthorizedError } from '../../errors.ts';
import { usageError } from './api.ts';

export const DEFAULT_API_URL = 'http://127.0.0.1:8080';

export interface ClientConfig {
  readonly api_url?: string;
  readonly key?: string;
}

export function configPath(env: NodeJS.ProcessEnv = process.env): string {
  if (env.CHRONOVERSE_CONFIG) return env.CHRONOVERSE_CONFIG;
  const base = env.XDG_CONFIG_HOME || join(homedir(), '.config');
  return join(base, 'chronoverse', 'config.json');
}

export async function readConfig(path: string): Promise<ClientConfig> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return {};
    throw err;
  }
  try {
    const parsed = JSON.parse(text) as unknown;
    if (typeof parsed !== 'object' || parsed === null) throw new Error('not an object');
    const { api_url, key } = parsed as Record<string, unknown>;
    return {
      ...(typeof api_url === 'string' ? { api_url } : {}),
      ...(typeof key === 'string' ? { key } : {}),
    };
  } catch (err) {
    throw usageError(`${path} is not a configuration file (${(err as Error).message}); log in again`);
  }
}

/** Writes the file so that no moment exists where another user could read the key. */
export async function writeConfig(path: string, config: ClientConfig): Promise<void> {
  await mkdir(dirname(path), { recursive: true, mode: 0o700 });
  const temporary = `${path}.${process.pid}.tmp`;
  await writeFile(temporary, `${JSON.stringify(config, null, 2)}\n`, { mode: 0o600, flag: 'w' });
  await chmod(temporary, 0o600);
  await rename(temporary, path);
}

export interface Resolved {
  readonly apiUrl: string;
  readonly key: string | undefined;
}

export function resolve(config: ClientConfig, flags: { apiUrl?: string }, env = process.env): Resolved {
  const apiUrl = flags.apiUrl ?? env.CHRONOVERSE_API_URL ?? config.api_url ?? DEFAULT_API_URL;
  try {
    new URL(apiUrl);
  } catch {
    throw usageError(`not a URL: ${apiUrl}`);
  }
  return { apiUrl, key: env.CHRONOVERSE_API_KEY || config.key };
}

export function requireKey(resolved: Resolved, path: string): string {
  if (!resolved.key) {
    throw new UnauthorizedError(
      'not_logged_in',
      `Not logged in: run \`chronoverse login\` (or set CHRONOVERSE_API_KEY); no key in ${path}`,
    );
  }
  return resolved.key;
}
