// Which roles exist and how each starts.
import { startApi } from './api-role.ts';
import { startExecutor } from './executor-role.ts';
import { startProjector } from './projector-role.ts';
import type { RoleName, RoleStarter } from './role.ts';
import { startScheduler } from './scheduler-role.ts';

export const roleStarters: Record<RoleName, RoleStarter> = {
  api: startApi,
  scheduler: startScheduler,
  executor: startExecutor,
  projector: startProjector,
};

export const allRoles: readonly RoleName[] = ['projector', 'scheduler', 'executor', 'api'];

/**
 * What each role needs to do its work, and so what its readiness checks: a process is ready when the
 * dependencies of its roles answer. The API needs no Docker (it runs nothing) and answers a ClickHouse
 * outage with 503 on the log and analytics routes alone, so neither takes it out of a load balancer;
 * an executor needs no PostgreSQL or ClickHouse (it talks to the event log and the engine only).
 */
export const roleDependencies: Record<RoleName, readonly string[]> = {
  api: ['nats', 'postgres'],
  scheduler: ['nats', 'postgres'],
  projector: ['nats', 'postgres', 'clickhouse'],
  executor: ['nats', 'docker'],
};
