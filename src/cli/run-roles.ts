// Runs one or more roles in this process until SIGTERM or SIGINT, then stops them in reverse order
// and closes the connections. Migrations run (idempotently) before any role serves.
import { loadConfig } from '../config/config.ts';
import { type MigrationReport, migrateAll } from '../migrate/migrate-all.ts';
import { startHealthServer } from '../roles/health-server.ts';
import { roleDependencies, roleStarters } from '../roles/registry.ts';
import type { RoleName, RunningRole } from '../roles/role.ts';
import { openRuntime, type Runtime } from '../runtime/runtime.ts';
import { sleep } from '../stack/process-control.ts';

export async function runRoles(roles: readonly RoleName[], onReady?: (url: string) => void): Promise<number> {
  const config = loadConfig();
  const opened = await openRuntime(config, roles.length === 1 ? roles[0]! : 'all');
  // Readiness checks what these roles need, and turns 503 once the process is shutting down.
  let draining = false;
  const needed = new Set(roles.flatMap((r) => roleDependencies[r]));
  const runtime: Runtime = {
    ...opened,
    readinessProbes: {
      ...Object.fromEntries(Object.entries(opened.readinessProbes).filter(([name]) => needed.has(name))),
      accepting_work: async () => {
        if (draining) throw new Error('shutting down');
      },
    },
  };
  const report = await migrateAll(config, { db: runtime.db, nats: runtime.nats });
  runtime.log.info('migrations applied', { ...report });
  warnOfReplicaMismatch(report, runtime.log.warn.bind(runtime.log));
  const running: RunningRole[] = [];
  for (const role of roles) running.push(await roleStarters[role](runtime));
  const health =
    config.CV_HEALTH_PORT === undefined
      ? undefined
      : await startHealthServer(runtime.readinessProbes, {
          hostname: config.CV_HTTP_HOST,
          port: config.CV_HEALTH_PORT,
        });
  if (health) runtime.log.info('health endpoints listening', { url: health.url });
  onReady?.(`http://${config.CV_HTTP_HOST}:${config.CV_HTTP_PORT}`);

  const signal = await new Promise<NodeJS.Signals>((resolve) => {
    process.once('SIGTERM', () => resolve('SIGTERM'));
    process.once('SIGINT', () => resolve('SIGINT'));
  });
  runtime.log.info('shutting down', { signal });
  // A second signal during the drain means "now".
  process.once('SIGTERM', () => process.exit(130));
  process.once('SIGINT', () => process.exit(130));
  draining = true;
  // Still serving, but no longer ready: the load balancer takes this process out before it stops.
  if (config.CV_SHUTDOWN_DELAY_SECONDS > 0) await sleep(config.CV_SHUTDOWN_DELAY_SECONDS * 1000);
  for (const role of running.reverse()) {
    await role
      .stop()
      .catch((err: unknown) =>
        runtime.log.error('role did not stop cleanly', { role: role.name, error: err }),
      );
  }
  await health?.stop();
  await runtime.close();
  return 0;
}

/** A stream whose replica count differs from the declared one is left alone, and said so. */
function warnOfReplicaMismatch(
  report: MigrationReport,
  warn: (m: string, f: Record<string, unknown>) => void,
): void {
  for (const a of report.jetstream) {
    if (a.replicas) {
      warn('stream replica count differs from the declared one; left as it is (docs/deployment.md)', {
        stream: a.stream,
        ...a.replicas,
      });
    }
  }
}

/** `chronoverse migrate [--scale-replicas]`: the latter also moves streams to the declared replica count. */
export async function migrateCommand(args: readonly string[] = []): Promise<number> {
  const config = loadConfig();
  const runtime = await openRuntime(config, 'migrate');
  try {
    const report = await migrateAll(
      config,
      { db: runtime.db, nats: runtime.nats },
      { scaleReplicas: args.includes('--scale-replicas') },
    );
    console.log(JSON.stringify(report, null, 2));
    warnOfReplicaMismatch(report, (m, f) => console.error(`warning: ${m} ${JSON.stringify(f)}`));
    return 0;
  } finally {
    await runtime.close();
  }
}
