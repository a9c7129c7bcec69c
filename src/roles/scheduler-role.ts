// The scheduler: fires every workflow's ticks (each replica takes the workflows rendezvous hashing
// gives it among the live replicas), and runs the reactors that move workflows and jobs along (a
// scheduled job is created and queued; a queued attempt is dispatched to the executors; a job's end
// is recorded on its workflow; a queued build goes to the executors' build queue).
import { hostname } from 'node:os';
import { natsReplicas } from '../infra/nats-connection.ts';
import { schedulerReactors } from '../reactors/scheduler-reactors.ts';
import { followWorkflows } from '../reactors/workflow-follower.ts';
import { SchedulerMembership } from '../scheduler/membership.ts';
import { TickScheduler } from '../scheduler/tick-scheduler.ts';
import type { RoleStarter } from './role.ts';

export const startScheduler: RoleStarter = async (runtime) => {
  const log = runtime.log.child('scheduler');
  const { nats, commands, db, config } = runtime;
  // Before the reactors: the job ends they record are decided on workflow snapshots kept current.
  const follower = followWorkflows(nats, commands, log);
  const reactors = [schedulerReactors({ nats, commands, pool: config.CV_EXECUTOR_POOL, log })];
  for (const r of reactors) await r.start();
  const memberId = `${hostname()}-${process.pid}`;
  const membership = new SchedulerMembership(nats.nc, memberId, {
    ttlMs: 6000,
    heartbeatMs: 1500,
    replicas: natsReplicas(config.CV_NATS_REPLICAS, nats.nc.info),
  });
  await membership.join();
  const ticks = new TickScheduler(
    { db, commands, log },
    {
      memberId,
      members: () => membership.members,
      lookaheadMs: config.CV_SCHEDULER_LOOKAHEAD_MS,
      catchUp: config.CV_SCHEDULER_CATCH_UP,
      graceMs: config.CV_SCHEDULER_GRACE_SECONDS * 1000,
      catchUpWindowMs: config.CV_SCHEDULER_CATCH_UP_WINDOW_SECONDS * 1000,
    },
  );
  await ticks.start();
  log.info('scheduler started', {
    member: memberId,
    workflows_owned: ticks.owned,
    reactors: reactors.map((r) => r.reactor.name),
  });
  return {
    name: 'scheduler',
    stop: async () => {
      await ticks.stop();
      await membership.leave();
      await Promise.all(reactors.map((r) => r.stop()));
      await follower.stop();
    },
  };
};
