// The whole system for the benchmarks that go through the HTTP API: test/support/system.ts (a private
// nats-server, fresh databases, `chronoverse all` as a child process on a free port), and the load
// processes such a benchmark spawns. Both are tracked, so an interrupted run removes them as well:
// `disposeOpenSystems` is called by bench/run.ts beside `disposeOpenEnvironments`.
import type { ChildProcess } from 'node:child_process';
import { startSystem, type TestSystem } from '../../test/support/system.ts';
import type { Progress } from './benchmark.ts';

const systems = new Set<TestSystem>();
const children = new Set<ChildProcess>();

/**
 * `roles` is `all` (the default) or a comma-separated list, e.g. `api` alone when the benchmark runs
 * the other roles as their own processes (bench/support/role-processes.ts).
 */
export async function startBenchSystem(
  name: string,
  progress: Progress,
  env: Record<string, string> = {},
  roles = 'all',
): Promise<TestSystem> {
  const inner = await startSystem(env, roles);
  let disposed: Promise<void> | undefined;
  const system: TestSystem = {
    baseUrl: inner.baseUrl,
    nats: inner.nats,
    dbs: inner.dbs,
    process: inner.process,
    dispose() {
      systems.delete(system);
      disposed ??= inner
        .dispose()
        .catch((err: unknown) => progress(`${name}: cleanup of the system failed: ${String(err)}`));
      return disposed;
    },
  };
  systems.add(system);
  progress(`${name}: chronoverse ${roles} at ${inner.baseUrl}, private nats-server at ${inner.nats.url}`);
  return system;
}

/** Kills `child` (SIGTERM) when the run is interrupted; forgotten once it exits. */
export function trackChild(child: ChildProcess): void {
  children.add(child);
  child.once('exit', () => children.delete(child));
}

/** Stops every load process and disposes every system still open (on SIGINT/SIGTERM). */
export async function disposeOpenSystems(): Promise<void> {
  for (const child of children) child.kill('SIGTERM');
  await Promise.all([...systems].map((s) => s.dispose()));
}
