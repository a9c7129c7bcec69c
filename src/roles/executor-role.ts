// The executor: builds CONTAINER workflows (image present or pulled) and runs job attempts from the
// dispatch queue. On start it first clears what an earlier run of the same executor left behind.
import { hostname } from 'node:os';
import { executorLimitsFrom } from '../executor/container-limits.ts';
import { Executor } from '../executor/executor.ts';
import { ExecutorIdLease } from '../executor/executor-id-lease.ts';
import { recoverOrphans, watchMaxDeliveries } from '../executor/recovery.ts';
import { parseNetworks } from '../infra/endpoint-policy.ts';
import { natsReplicas } from '../infra/nats-connection.ts';
import { loadSecretBox } from '../infra/secret-box.ts';
import { buildReactor } from '../reactors/build-reactor.ts';
import { ReactorRunner } from '../reactors/reactor.ts';
import type { RoleStarter } from './role.ts';

export const startExecutor: RoleStarter = async (runtime) => {
  const c = runtime.config;
  const executorId = c.CV_EXECUTOR_ID ?? `${hostname()}-${c.CV_EXECUTOR_POOL}`;
  const log = runtime.log.child('executor');
  const deps = { nats: runtime.nats, commands: runtime.commands, docker: runtime.docker, log };
  // Held before anything is recovered: a second live executor with this id must not remove the
  // first one's containers.
  const lease = new ExecutorIdLease(runtime.nats.nc, executorId, log, {
    replicas: natsReplicas(c.CV_NATS_REPLICAS, runtime.nats.nc.info),
  });
  await lease.acquire();
  const recovered = await recoverOrphans(deps, executorId);
  const executor = new Executor(deps, {
    executorId,
    pool: c.CV_EXECUTOR_POOL,
    concurrency: c.CV_EXECUTOR_CONCURRENCY,
    ackWaitMs: c.CV_DISPATCH_ACK_WAIT_SECONDS * 1000,
    maxDeliver: c.CV_DISPATCH_MAX_DELIVER,
    limits: executorLimitsFrom(c),
    heartbeatAllowedNetworks: parseNetworks(c.CV_HEARTBEAT_ALLOWED_NETWORKS),
    secretBox: await loadSecretBox(c),
  });
  const builds = new ReactorRunner(runtime.nats, buildReactor({ ...deps, pool: c.CV_EXECUTOR_POOL }), log);
  await builds.start();
  await executor.start();
  const advisories = watchMaxDeliveries(deps, c.CV_EXECUTOR_POOL);
  log.info('executor started', {
    executor_id: executorId,
    pool: c.CV_EXECUTOR_POOL,
    concurrency: c.CV_EXECUTOR_CONCURRENCY,
    recovered_containers: recovered,
  });
  return {
    name: 'executor',
    stop: async () => {
      try {
        await Promise.all([executor.stop(), builds.stop(), advisories.stop()]);
      } finally {
        await lease.release();
      }
    },
  };
};
