// Runs bench/support/load-generator.ts as a separate process (Node 24 with tsx as a loader, as the
// CLI runs) and returns the JSON it prints. The paths and the token go through stdin, so neither the
// command line nor the environment limits their size.
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { trackChild } from './api-system.ts';
import type { LoadResult } from './load-generator.ts';
import { withTimeout } from './stats.ts';

export type { LoadResult };

const root = fileURLToPath(new URL('../../', import.meta.url));

export interface LoadOptions {
  baseUrl: string;
  token: string | null;
  /** Request i asks for paths[i % paths.length]. */
  paths: readonly string[];
  rate: number;
  durationMs: number;
  warmupMs: number;
  connections: number;
  timeoutMs: number;
}

export async function runLoadProcess(options: LoadOptions): Promise<LoadResult> {
  const args = [
    '--import',
    'tsx',
    'bench/support/load-generator.ts',
    '--base-url',
    options.baseUrl,
    '--rate',
    String(options.rate),
    '--duration-ms',
    String(options.durationMs),
    '--warmup-ms',
    String(options.warmupMs),
    '--connections',
    String(options.connections),
    '--timeout-ms',
    String(options.timeoutMs),
  ];
  const child = spawn(`${root}node_modules/.bin/node`, args, { cwd: root, stdio: ['pipe', 'pipe', 'pipe'] });
  trackChild(child);
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (b: Buffer) => (stdout += b));
  child.stderr.on('data', (b: Buffer) => (stderr += b));
  const exited = new Promise<number | string>((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', (code, signal) => resolve(code ?? signal ?? 'nothing'));
  });
  child.stdin.end(JSON.stringify({ token: options.token, paths: options.paths }));
  // Generous: start-up, warm-up, the run, and every late request's own timeout.
  const limit = options.warmupMs + options.durationMs + 2 * options.timeoutMs + 60_000;
  let code: number | string;
  try {
    code = await withTimeout(exited, limit, 'the load process');
  } catch (err) {
    child.kill('SIGKILL');
    throw err;
  }
  if (code !== 0) throw new Error(`the load process exited with ${code}: ${stderr.trim()}`);
  try {
    return JSON.parse(stdout) as LoadResult;
  } catch {
    throw new Error(`the load process printed no JSON: ${stdout.slice(0, 500)} ${stderr.slice(0, 500)}`);
  }
}
