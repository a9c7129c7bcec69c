// Which roles exist and how each starts. Roles whose consumers are not built yet start empty and say so.
import { startApi } from './api-role.ts';
import type { RoleName, RoleStarter } from './role.ts';

const idleRole =
  (name: RoleName, what: string): RoleStarter =>
  async (runtime) => {
    runtime.log.info(`${name} started`, { note: what });
    return { name, stop: async () => {} };
  };

export const roleStarters: Record<RoleName, RoleStarter> = {
  api: startApi,
  scheduler: idleRole('scheduler', 'no scheduling reactor yet'),
  executor: idleRole('executor', 'no dispatch consumer yet'),
  projector: idleRole('projector', 'no projections yet'),
};

export const allRoles: readonly RoleName[] = ['projector', 'scheduler', 'executor', 'api'];
