// The limits a job container gets: the workflow's own request, else the executor's default, never
// above the executor's cap.
import type { Config } from '../config/config.ts';
import type { ContainerSpec } from '../workflows/payload-schemas.ts';

export interface ContainerLimits {
  readonly cpus: number;
  readonly memoryMb: number;
  readonly pids: number;
}

export interface ExecutorLimits {
  readonly defaults: ContainerLimits;
  readonly caps: ContainerLimits;
}

export function limitsFor(spec: ContainerSpec, executor: ExecutorLimits): ContainerLimits {
  const r = spec.resources ?? {};
  return {
    cpus: Math.min(r.cpus ?? executor.defaults.cpus, executor.caps.cpus),
    memoryMb: Math.min(r.memory_mb ?? executor.defaults.memoryMb, executor.caps.memoryMb),
    pids: Math.min(r.pids ?? executor.defaults.pids, executor.caps.pids),
  };
}

/** An executor's defaults and caps, as configured (CV_EXECUTOR_DEFAULT_* and CV_EXECUTOR_MAX_*). */
export function executorLimitsFrom(c: Config): ExecutorLimits {
  return {
    defaults: {
      cpus: c.CV_EXECUTOR_DEFAULT_CPUS,
      memoryMb: c.CV_EXECUTOR_DEFAULT_MEMORY_MB,
      pids: c.CV_EXECUTOR_DEFAULT_PIDS,
    },
    caps: {
      cpus: c.CV_EXECUTOR_MAX_CPUS,
      memoryMb: c.CV_EXECUTOR_MAX_MEMORY_MB,
      pids: c.CV_EXECUTOR_MAX_PIDS,
    },
  };
}
