// The scheduler: the reactors that move workflows and jobs along (a scheduled job is created and
// queued; a job's end is recorded on its workflow). Due-time scheduling joins them here.
import { jobLifecycleReactor } from '../reactors/job-lifecycle-reactor.ts';
import { ReactorRunner } from '../reactors/reactor.ts';
import type { RoleStarter } from './role.ts';

export const startScheduler: RoleStarter = async (runtime) => {
  const reactors = [
    new ReactorRunner(runtime.nats, jobLifecycleReactor(runtime.commands), runtime.log.child('reactor')),
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
