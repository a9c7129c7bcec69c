// A role is one kind of work a process does (api, scheduler, executor, projector). It starts on a
// runtime and stops gracefully: it finishes or hands back what it holds, then returns.
import type { Runtime } from '../runtime/runtime.ts';

export interface RunningRole {
  readonly name: string;
  stop(): Promise<void>;
}

export type RoleName = 'api' | 'scheduler' | 'executor' | 'projector';
export type RoleStarter = (runtime: Runtime) => Promise<RunningRole>;
