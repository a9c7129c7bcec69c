// The one entry point: `chronoverse <role|command>`.
import { ConfigError } from '../config/config.ts';
import { allRoles } from '../roles/registry.ts';
import type { RoleName } from '../roles/role.ts';
import { stackUp } from '../stack/stack.ts';
import { shutdownTelemetry } from '../telemetry/tracing.ts';
import { type CLIENT_COMMANDS, clientCommand, clientUsage } from './client/client-command.ts';
import { natsConfigCommand } from './nats-config-command.ts';
import { openapiCommand } from './openapi-command.ts';
import { projectionsCommand } from './projections-command.ts';
import { migrateCommand, runRoles } from './run-roles.ts';
import { stackCommand } from './stack-command.ts';

const usage = `usage: chronoverse <command>
  api | scheduler | executor | projector   run one role
  all                                      every role in one process (development)
  api,projector,...                        the named roles in one process
  start                                    stack up, migrate, run every role, print the URL (npm start)
  migrate [--scale-replicas]               apply PostgreSQL, ClickHouse and JetStream migrations
                                           (--scale-replicas: also move streams to CV_NATS_REPLICAS)
  projections rebuild [name]               drop a projection's rows and replay the event log into them
  openapi [file]                           write the API's OpenAPI document (no service needed)
  nats-config [--password P] [--store-dir D]  a nats-server configuration for integrator credentials
  stack up|down|status|reset               the local stack of real services
${clientUsage}`;

const [command, ...args] = process.argv.slice(2);

async function main(): Promise<number> {
  switch (command) {
    case 'stack':
      return stackCommand(args);
    case 'migrate':
      return migrateCommand(args);
    case 'projections':
      return projectionsCommand(args);
    case 'openapi':
      return openapiCommand(args);
    case 'nats-config':
      return natsConfigCommand(args);
    case 'api':
    case 'scheduler':
    case 'executor':
    case 'projector':
      return runRoles([command satisfies RoleName]);
    case 'all':
      return runRoles(allRoles);
    case 'login':
    case 'logout':
    case 'workflows':
    case 'jobs':
    case 'logs':
    case 'history':
      return clientCommand(command satisfies (typeof CLIENT_COMMANDS)[number], args);
    case 'start':
      await stackUp((m) => console.log(`[stack] ${m}`));
      return runRoles(allRoles, (url) =>
        console.log(
          `\nChronoverse is running: ${url}  (the dashboard; the API's documentation at ${url}/docs; Ctrl-C stops it)\n`,
        ),
      );
    default: {
      // Several roles in one process: `chronoverse api,projector,scheduler`.
      const roles = command?.split(',') ?? [];
      if (
        roles.length > 1 &&
        roles.every((r): r is RoleName => (allRoles as readonly string[]).includes(r))
      ) {
        return runRoles(roles);
      }
      console.error(usage);
      return command === undefined || command === 'help' || command === '--help' ? 0 : 2;
    }
  }
}

// The telemetry SDK, when the bootstrap started one, exports what it holds before the process exits.
main().then(
  async (code) => {
    await shutdownTelemetry();
    process.exit(code);
  },
  async (err: unknown) => {
    console.error(
      err instanceof ConfigError || !(err instanceof Error)
        ? String(err instanceof Error ? err.message : err)
        : (err.stack ?? err.message),
    );
    await shutdownTelemetry();
    process.exit(1);
  },
);
