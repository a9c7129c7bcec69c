// Runs `chronoverse <role>` as a child process with a test's configuration, to kill and restart it.
import { type ChildProcess, spawn } from 'node:child_process';
import type { Config } from '../../src/config/config.ts';

/**
 * How to run the CLI as one process on the project's Node 24: node with tsx as a loader. (The `tsx`
 * command would run the program in a child process, so a signal to it would not reach the program.)
 */
export function cli(...args: string[]): [string, string[]] {
  return [
    'node_modules/.bin/node',
    [
      ...(process.env.CV_ROLE_CPU_PROF
        ? ['--cpu-prof', `--cpu-prof-dir=${process.env.CV_ROLE_CPU_PROF}`]
        : []),
      '--import',
      'tsx',
      // As bin/chronoverse runs it: the SDK loads only when the test's environment names an exporter.
      '--import',
      './src/telemetry/bootstrap.ts',
      'src/cli/main.ts',
      ...args,
    ],
  ];
}

export interface RoleProcess {
  readonly child: ChildProcess;
  output(): string;
  exited: Promise<number | null>;
  kill(signal?: NodeJS.Signals): Promise<number | null>;
  /** Resolves once the process has printed `text` (e.g. its "started" log line). */
  waitFor(text: string, timeoutMs?: number): Promise<void>;
}

/** What each role started in this test file has printed, and how much of it a failure has shown already. */
const printed: { name: string; child: ChildProcess; output: () => string; shown: number }[] = [];

/**
 * What the roles started in this test file printed since the last call, the last `maxChars` of each
 * (test/support/role-output-on-failure.ts shows it under a failed test: the roles run at CV_LOG_LEVEL
 * warn, so this is their warnings and errors, which the test's own assertion does not tell).
 */
export function unreportedRoleOutput(maxChars = 6000): string {
  const parts: string[] = [];
  for (const p of printed) {
    const out = p.output();
    const fresh = out.slice(p.shown);
    p.shown = out.length;
    if (!fresh.trim()) continue;
    const state =
      p.child.exitCode === null && p.child.signalCode === null
        ? 'running'
        : `exited ${p.child.exitCode ?? p.child.signalCode}`;
    const clipped =
      fresh.length > maxChars
        ? `[… ${fresh.length - maxChars} characters before]\n${fresh.slice(-maxChars)}`
        : fresh;
    parts.push(`--- chronoverse ${p.name} (pid ${p.child.pid}, ${state}) ---\n${clipped}`);
  }
  return parts.join('\n');
}

/** Every child still running when the test worker exits is killed: a failed test leaves no process behind. */
const children = new Set<ChildProcess>();
process.once('exit', () => {
  for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
});

export function startRole(role: string, config: Config, extraEnv: Record<string, string> = {}): RoleProcess {
  const [command, args] = cli(role);
  const child = spawn(command, args, {
    env: {
      ...process.env,
      NATS_URL: config.NATS_URL,
      DATABASE_URL: config.DATABASE_URL,
      CLICKHOUSE_URL: config.CLICKHOUSE_URL,
      CLICKHOUSE_DATABASE: config.CLICKHOUSE_DATABASE,
      DOCKER_HOST: config.DOCKER_HOST,
      CV_HTTP_PORT: String(config.CV_HTTP_PORT),
      ...(config.CV_EXECUTOR_ID ? { CV_EXECUTOR_ID: config.CV_EXECUTOR_ID } : {}),
      ...extraEnv,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.add(child);
  child.once('exit', () => children.delete(child));
  let out = '';
  child.stdout?.on('data', (b: Buffer) => (out += b));
  child.stderr?.on('data', (b: Buffer) => (out += b));
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  printed.push({ name: role, child, output: () => out, shown: 0 });
  return {
    child,
    output: () => out,
    exited,
    async kill(signal = 'SIGKILL') {
      child.kill(signal);
      return exited;
    },
    async waitFor(text, timeoutMs = 60_000) {
      const deadline = Date.now() + timeoutMs;
      while (!out.includes(text)) {
        if (child.exitCode !== null || Date.now() > deadline)
          throw new Error(`never printed "${text}":\n${out}`);
        await new Promise((r) => setTimeout(r, 50));
      }
    },
  };
}
