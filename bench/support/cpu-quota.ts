// CV_BENCH_CPU_QUOTA=<cores>: the benchmark process, and every process it starts after (the roles,
// the private nats-server), run under a CPU quota of that many cores: a cgroup of their own (v1 or v2),
// made for the run and removed after it. PostgreSQL and ClickHouse are the stack's servers and stay
// outside it.
//
// Why: at a fixed rate on a machine with CPU to spare, the processes spend the spare CPU on smaller
// batches and lower latency, so a saving of a few percent in one of them shows up as latency and not as
// CPU per job (docs/benchmarks.md, 2026-12-08). Under a quota at which the rate still holds, there is
// no spare CPU to spend that way.
import { existsSync, mkdirSync, readFileSync, rmdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const ROOT = '/sys/fs/cgroup';
const PERIOD_US = 100_000;

export interface CpuQuota {
  readonly cores: number;
  readonly cgroup: string;
}

/** Parses CV_BENCH_CPU_QUOTA: a positive number of cores, or undefined when unset. */
export function quotaFromEnv(value: string | undefined): number | undefined {
  if (value === undefined || value === '') return undefined;
  const cores = Number(value);
  if (!Number.isFinite(cores) || cores <= 0) {
    throw new Error(`CV_BENCH_CPU_QUOTA must be a positive number of cores, not "${value}"`);
  }
  return cores;
}

/** Moves this process into a new cgroup limited to `cores`; throws saying why when it cannot. */
export function enterCpuQuota(cores: number): CpuQuota {
  const quotaUs = Math.round(cores * PERIOD_US);
  const name = `cv-bench-${process.pid}`;
  const v2 = existsSync(join(ROOT, 'cgroup.controllers'));
  const parent = v2 ? ROOT : join(ROOT, 'cpu');
  const cgroup = join(parent, name);
  try {
    mkdirSync(cgroup);
    if (v2) {
      writeFileSync(join(cgroup, 'cpu.max'), `${quotaUs} ${PERIOD_US}`);
    } else {
      writeFileSync(join(cgroup, 'cpu.cfs_period_us'), String(PERIOD_US));
      writeFileSync(join(cgroup, 'cpu.cfs_quota_us'), String(quotaUs));
    }
    writeFileSync(join(cgroup, 'cgroup.procs'), String(process.pid));
  } catch (err) {
    throw new Error(
      `CV_BENCH_CPU_QUOTA: cannot make a CPU-limited cgroup under ${parent} (root and a writable cgroup ` +
        `file system are needed; on cgroup v2 the cpu controller must be enabled for it): ${(err as Error).message}`,
    );
  }
  process.once('exit', () => {
    // Back to the parent, so the empty cgroup can go; a role still alive keeps it (removed by hand).
    try {
      writeFileSync(join(parent, 'cgroup.procs'), String(process.pid));
      if (readFileSync(join(cgroup, 'cgroup.procs'), 'utf8').trim() === '') rmdirSync(cgroup);
    } catch {
      // Nothing to report at exit.
    }
  });
  return { cores, cgroup };
}
