// Writes the realistic log of test/support/event-log-generator.ts through a command handler that
// counts what it appends, so the projection benchmarks know the exact number of commits and events
// (a commit holds one or two events) without reading the log back.
import type { AnyStateMachine } from 'xstate';
import type { Decider } from '../../src/actors/aggregate.ts';
import { CommandHandler, type CommandRequest, type CommandResult } from '../../src/actors/command-handler.ts';
import type { AggregateKind } from '../../src/events/envelope.ts';
import { streamNames } from '../../src/events/stream-definitions.ts';
import { generateEventLog, type LogShape } from '../../test/support/event-log-generator.ts';
import type { Progress } from './benchmark.ts';
import type { BenchEnvironment } from './environment.ts';
import { perSecond, round } from './stats.ts';

class CountingCommandHandler extends CommandHandler {
  commits = 0;
  events = 0;
  readonly eventsByAggregate: Record<AggregateKind, number> = { user: 0, workflow: 0, job: 0 };

  override async handle<M extends AnyStateMachine, C extends { readonly type: string }>(
    decider: Decider<M, C>,
    request: CommandRequest<C>,
  ): Promise<CommandResult<M>> {
    const result = await super.handle(decider, request);
    if (result.events.length > 0) {
      this.commits++;
      this.events += result.events.length;
      this.eventsByAggregate[decider.aggregate] += result.events.length;
    }
    return result;
  }
}

export interface EventLog {
  users: number;
  workflows: number;
  jobs: number;
  commands: number;
  commits: number;
  events: number;
  events_by_aggregate: Record<AggregateKind, number>;
  /** The stream's last sequence: what a projection has caught up to when it reaches it. */
  last_sequence: number;
  /** Writing the log (not a measurement of the projection; the generator drives `concurrency` workflows). */
  generation: { concurrency: number; duration_ms: number; commands_per_s: number };
}

export async function writeEventLog(
  env: BenchEnvironment,
  shape: Required<LogShape>,
  progress: Progress,
): Promise<EventLog> {
  const handler = new CountingCommandHandler(env.events);
  progress(
    `generating a log: ${shape.users} users x ${shape.workflowsPerUser} workflows x ${shape.jobsPerWorkflow} jobs`,
  );
  const started = performance.now();
  const generated = await generateEventLog(handler, shape);
  const duration = performance.now() - started;
  const info = await env.nats.jsm.streams.info(streamNames.events);
  if (info.state.messages !== handler.commits) {
    throw new Error(
      `the stream holds ${info.state.messages} commits, the handler appended ${handler.commits}`,
    );
  }
  progress(
    `log written: ${handler.commits} commits, ${handler.events} events in ${round(duration / 1000, 1)}s`,
  );
  return {
    users: generated.userIds.length,
    workflows: generated.workflowIds.length,
    jobs: generated.workflowIds.length * shape.jobsPerWorkflow,
    commands: generated.commands,
    commits: handler.commits,
    events: handler.events,
    events_by_aggregate: { ...handler.eventsByAggregate },
    last_sequence: info.state.last_seq,
    generation: {
      concurrency: shape.concurrency,
      duration_ms: round(duration, 1),
      commands_per_s: perSecond(generated.commands, duration),
    },
  };
}

/** Row counts of the main read models, to check a projection really built them. */
export async function readModelRowCounts(
  env: BenchEnvironment,
): Promise<{ users: number; workflows: number; jobs: number }> {
  const count = async (table: 'users' | 'workflows' | 'jobs') =>
    Number(
      (
        await env.db
          .selectFrom(table)
          .select((eb) => eb.fn.countAll().as('n'))
          .executeTakeFirstOrThrow()
      ).n,
    );
  const [users, workflows, jobs] = await Promise.all([count('users'), count('workflows'), count('jobs')]);
  return { users, workflows, jobs };
}
