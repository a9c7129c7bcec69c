// Which roles exist and how each starts. Roles whose consumers are not built yet start empty and say so.
import { startApi } from './api-role.ts';
import { startProjector } from './projector-role.ts';
import type { RoleName, RoleStarter } from './role.ts';
import { startScheduler } from './scheduler-role.ts';

const idleRole =
  (name: RoleName, what: string): RoleStarter =>
  async (runtime) => {
    runtime.log.info(`${name} started`, { note: what });
    return { name, stop: async () => {} };
  };

export const roleStarters: Record<RoleName, RoleStarter> = {
  api: startApi,
  scheduler: startScheduler,
  executor: idleRole('executor', 'no dispatch consumer yet'),
  projector: startProjector,
};

export const allRoles: readonly RoleName[] = ['projector', 'scheduler', 'executor', 'api'];
