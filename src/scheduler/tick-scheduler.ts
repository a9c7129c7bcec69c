// The scheduling loop of one replica. It follows the schedulable workflows (active or paused, built)
// from the read model, keeps those that rendezvous hashing gives to it, and turns every nominal tick
// into exactly one command on the workflow actor: FireTick (the actor answers JobScheduled, or
// TickSkipped when paused or overlapping) or SkipTick (missed in a catch-up, paused, a DST gap under
// `skip`, or the first tick after the schedule's end). A tick may be decided up to `lookaheadMs` early,
// so at the due instant only the dispatch of an already created job remains (the job is not run
// before its nominal time: the dispatch carries it as not_before); the actor fires it early only when
// nothing before that time can change the answer, and otherwise leaves it for this loop to send again
// when due (see tick-plan.ts and docs/scheduling.md). The actor remembers its last decided tick
// and only moves forward, so a replica that fires a tick another replica already fired appends
// nothing. While a workflow is paused, the ticks its catch-up policy would fire on resume are left
// undecided (see planWhilePaused); the rest are recorded as paused when they fall due.
import type { Kysely } from 'kysely';
import type { CommandHandler, CommandResult } from '../actors/command-handler.ts';
import { workflowDecider } from '../actors/workflow-decider.ts';
import { type WorkflowMachine, workflowStatus } from '../actors/workflow-machine.ts';
import { isRefusal } from '../errors.ts';
import type { OverlapPolicy, WorkflowCommand } from '../events/workflow-events.ts';
import type { Database } from '../infra/database.ts';
import type { Logger } from '../telemetry/logger.ts';
import { meters } from '../telemetry/metrics.ts';
import { withSpan } from '../telemetry/tracing.ts';
import { endTick, nextTicks, type Tick } from './due-times.ts';
import { ownerOf } from './ownership.ts';
import type { ScheduleSpec } from './schedule.ts';
import { planTickSteps, specOf } from './tick-plan.ts';

export type { CatchUpPolicy } from '../events/workflow-events.ts';

import type { CatchUpPolicy } from '../events/workflow-events.ts';

export interface TickSchedulerOptions {
  readonly memberId: string;
  /** The live replicas, this one included. */
  readonly members: () => readonly string[];
  readonly now?: () => Date;
  readonly lookaheadMs?: number;
  /** A tick later than this is a missed one, handled by the catch-up policy; earlier ones just fire. */
  readonly graceMs?: number;
  readonly catchUp?: CatchUpPolicy;
  /** How far back `all` still fires missed ticks. */
  readonly catchUpWindowMs?: number;
  readonly refreshMs?: number;
  readonly passMs?: number;
  readonly concurrency?: number;
  readonly maxTicksPerPass?: number;
}

interface Entry {
  readonly id: string;
  readonly userId: string;
  spec: ScheduleSpec;
  overlap: OverlapPolicy;
  catchUp: CatchUpPolicy;
  lastTickAt: number | null;
  busy: boolean;
  /** The schedule as loaded, to notice a change. */
  specKey: string;
  /** Whether ticks are planned as for a paused workflow: the read model's view, corrected by the actor. */
  paused: boolean;
  /** `paused` was set by the actor's answer to a fire, ahead of the read model. */
  pausedByActor: boolean;
  /** The read model's status at the last refresh: only a change of it overrides what the actor said. */
  statusSeen: string;
  /** The read model's count of withdrawals at the last refresh: a change moves the ledger back. */
  withdrawalsSeen: number;
  /** Paused with every due tick held for the catch-up: nothing to decide before this instant. */
  holdUntil: number;
  /** The workflow left a tick decided ahead undecided: nothing to decide before it is due. */
  deferUntil: number;
  /** When the next tick is due: computed once per change of the last tick or the schedule
   * (undefined: not yet; null: the schedule has ended), so a pass only compares numbers. */
  nextDueAt: number | null | undefined;
  /** The end_reached marker of the schedule (see endTick), computed once per schedule. */
  endTick: Tick | null | undefined;
  /** Ownership for one member list (hashing every workflow on every pass would cost more than the pass). */
  owned?: { members: readonly string[]; mine: boolean };
}

export class TickScheduler {
  private readonly entries = new Map<string, Entry>();
  private timers: NodeJS.Timeout[] = [];
  private stopping = false;
  private pass: Promise<void> = Promise.resolve();
  private passing = false;
  private readonly o: Required<Omit<TickSchedulerOptions, 'memberId' | 'members'>>;

  constructor(
    private readonly deps: { db: Kysely<Database>; commands: CommandHandler; log: Logger },
    private readonly options: TickSchedulerOptions,
  ) {
    this.o = {
      now: () => new Date(),
      lookaheadMs: 2000,
      graceMs: 30_000,
      catchUp: 'latest',
      catchUpWindowMs: 3_600_000,
      refreshMs: 2000,
      passMs: 200,
      concurrency: 64,
      maxTicksPerPass: 1000,
      ...options,
    };
  }

  /** How many workflows this replica looks after now. */
  get owned(): number {
    return [...this.entries.keys()].filter((id) => this.owns(id)).length;
  }

  async start(): Promise<void> {
    await this.refresh();
    this.timers.push(
      setInterval(
        () =>
          void this.refresh().catch((err: unknown) =>
            this.deps.log.error('schedule refresh failed', { error: err }),
          ),
        this.o.refreshMs,
      ),
    );
    this.timers.push(
      setInterval(() => {
        // A pass still running (slow NATS or Postgres) is not queued behind: the next timer looks again.
        if (this.passing) return;
        this.passing = true;
        this.pass = this.runPass()
          .catch((err: unknown) => this.deps.log.error('scheduling pass failed', { error: err }))
          .finally(() => {
            this.passing = false;
          });
      }, this.o.passMs),
    );
  }

  private owns(id: string): boolean {
    return ownerOf(id, this.options.members()) === this.options.memberId;
  }

  /** Reloads the schedulable workflows; a tick decided here is kept if the read model lags behind. */
  async refresh(): Promise<void> {
    const rows = await this.deps.db
      .selectFrom('workflows')
      .select(['id', 'user_id', 'schedule', 'created_at', 'last_tick_at', 'status', 'tick_withdrawals'])
      .where('status', 'in', ['ACTIVE', 'PAUSED'])
      .where('build_status', '=', 'COMPLETED')
      .execute();
    const seen = new Set<string>();
    for (const r of rows) {
      seen.add(r.id);
      const lastTickAt = r.last_tick_at?.getTime() ?? null;
      const specKey = `${r.created_at.toISOString()} ${JSON.stringify(r.schedule)}`;
      const spec = specOf(r.schedule, r.created_at, r.id);
      const overlap = r.schedule.overlap ?? 'skip';
      const catchUp = r.schedule.catch_up ?? this.o.catchUp;
      const entry = this.entries.get(r.id);
      if (!entry) {
        this.entries.set(r.id, {
          id: r.id,
          userId: r.user_id,
          spec,
          overlap,
          catchUp,
          lastTickAt,
          busy: false,
          specKey,
          paused: r.status === 'PAUSED',
          pausedByActor: false,
          statusSeen: r.status,
          withdrawalsSeen: r.tick_withdrawals,
          holdUntil: 0,
          deferUntil: 0,
          nextDueAt: undefined,
          endTick: undefined,
        });
        continue;
      }
      if (entry.specKey !== specKey)
        Object.assign(entry, {
          spec,
          overlap,
          catchUp,
          specKey,
          holdUntil: 0,
          deferUntil: 0,
          nextDueAt: undefined,
          endTick: undefined,
        });
      // The actor may have corrected a stale status (see schedule()); a lagging read model that still
      // shows the old status must not undo that, only a change it reports.
      if (entry.statusSeen !== r.status) {
        Object.assign(entry, {
          statusSeen: r.status,
          paused: r.status === 'PAUSED',
          pausedByActor: false,
          holdUntil: 0,
          deferUntil: 0,
        });
      }
      if (entry.withdrawalsSeen !== r.tick_withdrawals) {
        // A pause withdrew ticks decided ahead and moved the ledger back (maybe resumed since, too
        // soon for this replica to see the pause): go on from the ledger's position as the row has it.
        Object.assign(entry, {
          withdrawalsSeen: r.tick_withdrawals,
          lastTickAt,
          nextDueAt: undefined,
          holdUntil: 0,
          deferUntil: 0,
        });
        continue;
      }
      if (lastTickAt !== null && (entry.lastTickAt === null || lastTickAt > entry.lastTickAt)) {
        entry.lastTickAt = lastTickAt;
        entry.nextDueAt = undefined;
        entry.holdUntil = 0;
      }
    }
    for (const id of this.entries.keys()) if (!seen.has(id)) this.entries.delete(id);
  }

  /** Decides what is due now: the pass the timer runs every `passMs` (public for tests). */
  async runPass(): Promise<void> {
    if (this.stopping) return;
    const now = this.o.now().getTime();
    const horizon = now + this.o.lookaheadMs;
    const members = this.options.members();
    const work: Entry[] = [];
    for (const e of this.entries.values()) {
      if (e.busy) continue;
      if (e.owned?.members !== members)
        e.owned = { members, mine: ownerOf(e.id, members) === this.options.memberId };
      if (!e.owned.mine) continue;
      if (e.paused && e.holdUntil > now) continue;
      if (e.deferUntil > now) continue;
      const due = this.nextDue(e);
      if (due !== null && due <= horizon) work.push(e);
    }
    let next = 0;
    const worker = async () => {
      for (let e = work[next++]; e; e = work[next++]) await this.schedule(e, now);
    };
    await Promise.all(Array.from({ length: Math.min(this.o.concurrency, work.length) }, worker));
  }

  private endTickOf(entry: Entry): Tick | null {
    if (entry.endTick === undefined) entry.endTick = endTick(entry.spec);
    return entry.endTick;
  }

  private nextDue(entry: Entry): number | null {
    if (entry.nextDueAt === undefined) {
      const after = entry.lastTickAt ?? 0;
      const [next] = nextTicks(entry.spec, new Date(after), 1);
      const end = this.endTickOf(entry);
      entry.nextDueAt = next ? next.at.getTime() : end && end.at.getTime() > after ? end.at.getTime() : null;
    }
    return entry.nextDueAt;
  }

  private async schedule(entry: Entry, now: number): Promise<void> {
    const input = {
      workflowId: entry.id,
      spec: entry.spec,
      overlap: entry.overlap,
      catchUp: entry.catchUp,
      lastTickAt: entry.lastTickAt,
      paused: entry.paused,
      end: this.endTickOf(entry),
    };
    const planOptions = {
      lookaheadMs: this.o.lookaheadMs,
      graceMs: this.o.graceMs,
      catchUpWindowMs: this.o.catchUpWindowMs,
      maxTicks: this.o.maxTicksPerPass,
    };
    const planned = planTickSteps(input, now, planOptions);
    if (planned.steps.length === 0 && !entry.paused) return;
    entry.busy = true;
    try {
      if (entry.paused && entry.pausedByActor) {
        // Paused on the actor's word, not the read model's: a resume soon after would not show in the
        // read model as a change of status, and the held ticks would wait for nothing. Ask the actor.
        const actor = await this.deps.commands.load(workflowDecider, entry.userId, entry.id);
        if (workflowStatus(actor.state).lifecycle !== 'paused') {
          Object.assign(entry, { paused: false, pausedByActor: false, holdUntil: 0 });
        }
      }
      // Planned again only if the actor just told this replica the workflow is no longer paused.
      const { steps, recheckAt } =
        entry.paused === input.paused
          ? planned
          : planTickSteps({ ...input, paused: entry.paused }, now, planOptions);
      if (entry.paused && recheckAt !== undefined) {
        // On the actor's word alone, look again soon: the resume that ends it may not show otherwise.
        entry.holdUntil = entry.pausedByActor ? Math.min(recheckAt, now + 5000) : recheckAt;
      }
      for (const { tick, ahead, commandId, command } of steps) {
        if (this.stopping) return;
        let result: CommandResult<WorkflowMachine>;
        try {
          result = await this.decide(entry, tick.at, ahead, commandId, command, now);
        } catch (err) {
          if (isRefusal(err) && err.code === 'workflow_not_paused') {
            // Resumed and the read model does not show it yet: the tick stays undecided, and the
            // next pass plans it as an active one (it may have to fire).
            Object.assign(entry, { paused: false, pausedByActor: false, holdUntil: 0 });
            return;
          }
          if (isRefusal(err) && err.code === 'tick_out_of_order') {
            // A pause withdrew ticks this replica had decided ahead: go on from where the ledger is.
            const last = (err.details as { last_tick_at?: string | null } | undefined)?.last_tick_at ?? null;
            Object.assign(entry, {
              lastTickAt: last === null ? null : Date.parse(last),
              nextDueAt: undefined,
            });
            return;
          }
          // Terminated or deleted meanwhile: the next refresh drops it.
          if (isRefusal(err)) {
            this.entries.delete(entry.id);
            return;
          }
          throw err;
        }
        const last = result.state.context.last_tick_at;
        if (ahead && result.events.length === 0 && (last === null || Date.parse(last) < tick.at.getTime())) {
          // The workflow leaves the tick undecided until it is due (an earlier job still active, a
          // pause, a build): ask again then, and decide nothing after it before.
          entry.deferUntil = tick.at.getTime();
          return;
        }
        entry.lastTickAt = tick.at.getTime();
        entry.nextDueAt = undefined;
        const skipped = result.events.find((e) => e.type === 'TickSkipped')?.data as
          | { reason?: string }
          | undefined;
        if (skipped?.reason === 'paused' && !entry.paused) {
          // Paused and the read model does not show it yet: that tick raced the pause; the rest of
          // the page waits for the next pass, which holds what the catch-up policy would fire.
          Object.assign(entry, { paused: true, pausedByActor: true });
          return;
        }
      }
    } finally {
      entry.busy = false;
    }
  }

  /**
   * One tick's command on the workflow actor, as the root span of the tick's trace (`tick FireTick`,
   * `tick SkipTick`): the job it schedules, the dispatch and the run are its descendants. Counted by
   * outcome (a tick the workflow leaves undecided is neither).
   */
  private decide(
    entry: Entry,
    at: Date,
    ahead: boolean,
    commandId: string,
    command: WorkflowCommand,
    now: number,
  ): Promise<CommandResult<WorkflowMachine>> {
    return withSpan(
      `tick ${command.type}`,
      {
        root: true,
        attributes: {
          'chronoverse.workflow.id': entry.id,
          'chronoverse.tick.nominal_at': at.toISOString(),
          'chronoverse.tick.ahead': ahead,
        },
      },
      async (span) => {
        const result = await this.deps.commands.handle(workflowDecider, {
          commandId,
          userId: entry.userId,
          aggregateId: entry.id,
          command,
        });
        for (const e of result.events) {
          if (e.type === 'JobScheduled') {
            meters().ticks.add(1, { 'chronoverse.tick.outcome': 'fired' });
            span.setAttribute('chronoverse.tick.outcome', 'fired');
            span.setAttribute('chronoverse.job.id', e.data.job_id);
          } else if (e.type === 'TickSkipped') {
            meters().ticks.add(1, {
              'chronoverse.tick.outcome': 'skipped',
              'chronoverse.tick.skip_reason': e.data.reason,
            });
            span.setAttribute('chronoverse.tick.outcome', 'skipped');
            span.setAttribute('chronoverse.tick.skip_reason', e.data.reason);
          } else continue;
          if (now - at.getTime() > this.o.graceMs) meters().overdueTicks.add(1);
        }
        return result;
      },
    );
  }

  async stop(): Promise<void> {
    this.stopping = true;
    for (const t of this.timers) clearInterval(t);
    await this.pass;
  }
}
