// The scheduler's reactors, on one durable consumer of the log (one delivery per commit, not one per
// reactor): a scheduled job becomes a job actor and is queued, a queued attempt is dispatched to the
// executors, a job's end is recorded on its workflow, the workflows its chain names then run, and a
// queued build goes to the build queue.
// (A deployment from before keeps durable consumers `reactor_dispatch` and `reactor_build` that
// nothing reads any more.)
import type { CommandHandler } from '../actors/command-handler.ts';
import type { Nats } from '../infra/nats-connection.ts';
import type { Logger } from '../telemetry/logger.ts';
import { buildRequestReactor } from './build-reactor.ts';
import { chainReactor } from './chain-reactor.ts';
import { dispatchReactor } from './dispatch-reactor.ts';
import { jobLifecycleReactor } from './job-lifecycle-reactor.ts';
import { combinedReactor, JOB_REACTORS, ReactorRunner } from './reactor.ts';

export function schedulerReactors(deps: {
  nats: Nats;
  commands: CommandHandler;
  pool: string;
  log: Logger;
}): ReactorRunner {
  const { nats, commands, pool, log } = deps;
  return new ReactorRunner(
    nats,
    combinedReactor(JOB_REACTORS, [
      jobLifecycleReactor(commands, { nats, pool }),
      chainReactor(commands),
      dispatchReactor({ nats, commands, pool }),
      buildRequestReactor({ nats, pool }),
    ]),
    log,
    // The workflows these reactions command also follow the log as it is delivered here. The
    // scheduler role keeps them current sooner (workflow-follower.ts), and then this finds each commit
    // applied already (a subject parse and a cache look-up); it still extends a snapshot the follower
    // missed across a reconnect, and serves where no follower runs. A job enters the cache with its
    // first commit but is not followed further: no reaction needs it.
    { onCommit: (c) => commands.observe(c, 'workflow') },
  );
}
