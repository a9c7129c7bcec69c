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
