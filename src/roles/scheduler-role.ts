// The scheduler: the reactors that move workflows and jobs along (a scheduled job is created and
// queued; a queued attempt is dispatched to the executors; a job's end is recorded on its workflow).
// Due-time scheduling joins them here.
import { dispatchReactor } from '../reactors/dispatch-reactor.ts';
import { jobLifecycleReactor } from '../reactors/job-lifecycle-reactor.ts';
import { ReactorRunner } from '../reactors/reactor.ts';
import type { RoleStarter } from './role.ts';

export const startScheduler: RoleStarter = async (runtime) => {
  const log = runtime.log.child('reactor');
  const { nats, commands } = runtime;
  const reactors = [
    new ReactorRunner(nats, jobLifecycleReactor(commands), log),
    new ReactorRunner(nats, dispatchReactor({ nats, commands, pool: runtime.config.CV_EXECUTOR_POOL }), log),
  ];
  for (const r of reactors) await r.start();
  runtime.log.info('scheduler started', { reactors: reactors.map((r) => r.reactor.name) });
  return {
    name: 'scheduler',
    stop: async () => {
      await Promise.all(reactors.map((r) => r.stop()));
    },
  };
};
