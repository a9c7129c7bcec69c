// The scheduling loop of one replica. It follows the schedulable workflows (active or paused, built)
// from the read model, keeps those that rendezvous hashing gives to it, and turns every nominal tick
// into exactly one command on the workflow actor: FireTick (the actor answers JobScheduled, or
// TickSkipped when paused or overlapping) or SkipTick (missed in a catch-up, a DST gap under `skip`,
// or the first tick after the schedule's end). Ticks are decided up to `lookaheadMs` early, so at the
// due instant only the dispatch of an already created job remains; the job is not run before its
// nominal time (the dispatch carries it as not_before). The actor remembers its last decided tick and
// only moves forward, so a replica that fires a tick another replica already fired appends nothing.
import type { Kysely } from 'kysely';
import type { CommandHandler } from '../actors/command-handler.ts';
import { workflowDecider } from '../actors/workflow-decider.ts';
import { AppError } from '../errors.ts';
import { nameBasedUuid } from '../events/name-based-id.ts';
import type { OverlapPolicy, WorkflowSchedule } from '../events/workflow-events.ts';
import type { Database } from '../infra/database.ts';
import type { Logger } from '../telemetry/logger.ts';
import { endTick, nextTicks, type Tick, ticksBetween } from './due-times.ts';
import { ownerOf } from './ownership.ts';
import type { ScheduleSpec } from './schedule.ts';

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
  /** When the next tick is due: computed once per change of the last tick or the schedule
   * (undefined: not yet; null: the schedule has ended), so a pass only compares numbers. */
  nextDueAt: number | null | undefined;
  /** The end_reached marker of the schedule (see endTick), computed once per schedule. */
  endTick: Tick | null | undefined;
  /** Ownership for one member list (hashing every workflow on every pass would cost more than the pass). */
  owned?: { members: readonly string[]; mine: boolean };
}

export function jobIdForTick(workflowId: string, nominal: string): string {
  return nameBasedUuid(`tick\n${workflowId}\n${nominal}`);
}

export function specOf(schedule: WorkflowSchedule, createdAt: Date): ScheduleSpec {
  return { ...schedule, anchor: createdAt.toISOString() } as ScheduleSpec;
}

/** A tick to decide; `end` marks the schedule's end_reached marker, which never fires. */
export type DueTick = Tick & { readonly end?: boolean };
export type TickAction = 'fire' | 'missed' | 'dst_skipped' | 'end_reached';
export type TickPlan = { readonly tick: DueTick; readonly action: TickAction }[];

/**
 * The ticks to decide in (after, until], at most `max`: the schedule's own, then its end marker
 * (`end`, from endTick) once it is in range and not decided yet. The marker comes after every tick
 * of the schedule, so the list stays in order.
 */
export function ticksToDecide(
  spec: ScheduleSpec,
  end: Tick | null,
  after: Date,
  until: Date,
  max: number,
): DueTick[] {
  const ticks: DueTick[] = ticksBetween(spec, after, until, max);
  if (end && ticks.length < max && end.at > after && end.at <= until) ticks.push({ ...end, end: true });
  return ticks;
}

/**
 * What to do with each due tick, in order. A tick no more than `graceMs` late simply fires (a busy
 * scheduler is a little late, it has not missed anything). Older ticks were missed in an outage and
 * follow the policy: `latest` fires the newest of them, `all` fires those within `windowMs`, `none`
 * fires none; the rest are recorded as missed. `more` says further due ticks follow this page: then
 * `latest` fires nothing yet, since the newest missed tick is on a later page. The end marker is
 * recorded as end_reached however late it is.
 */
export function planTicks(
  ticks: readonly DueTick[],
  now: number,
  graceMs: number,
  policy: CatchUpPolicy,
  options: { windowMs?: number; more?: boolean } = {},
): TickPlan {
  const windowMs = options.windowMs ?? Number.POSITIVE_INFINITY;
  const late = ticks.filter((t) => now - t.at.getTime() > graceMs && t.dst !== 'skipped' && !t.end);
  const newestLate = options.more ? undefined : late.at(-1);
  return ticks.map((tick) => {
    if (tick.end) return { tick, action: 'end_reached' };
    if (tick.dst === 'skipped') return { tick, action: 'dst_skipped' };
    if (!late.includes(tick)) return { tick, action: 'fire' };
    if (policy === 'all' && now - tick.at.getTime() <= windowMs) return { tick, action: 'fire' };
    if (policy === 'latest' && tick === newestLate) return { tick, action: 'fire' };
    return { tick, action: 'missed' };
  });
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
      .select(['id', 'user_id', 'schedule', 'created_at', 'last_tick_at'])
      .where('status', 'in', ['ACTIVE', 'PAUSED'])
      .where('build_status', '=', 'COMPLETED')
      .execute();
    const seen = new Set<string>();
    for (const r of rows) {
      seen.add(r.id);
      const lastTickAt = r.last_tick_at?.getTime() ?? null;
      const specKey = `${r.created_at.toISOString()} ${JSON.stringify(r.schedule)}`;
      const spec = specOf(r.schedule, r.created_at);
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
          nextDueAt: undefined,
          endTick: undefined,
        });
        continue;
      }
      if (entry.specKey !== specKey)
        Object.assign(entry, { spec, overlap, catchUp, specKey, nextDueAt: undefined, endTick: undefined });
      if (lastTickAt !== null && (entry.lastTickAt === null || lastTickAt > entry.lastTickAt)) {
        entry.lastTickAt = lastTickAt;
        entry.nextDueAt = undefined;
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
    // Never ticked: the spec's anchor (creation) bounds the first tick.
    const after = new Date(entry.lastTickAt ?? 0);
    const due = ticksToDecide(
      entry.spec,
      this.endTickOf(entry),
      after,
      new Date(now + this.o.lookaheadMs),
      this.o.maxTicksPerPass,
    );
    if (due.length === 0) return;
    entry.busy = true;
    try {
      const more = due.length === this.o.maxTicksPerPass;
      const plan = planTicks(due, now, this.o.graceMs, entry.catchUp, {
        windowMs: this.o.catchUpWindowMs,
        more,
      });
      for (const { tick, action } of plan) {
        if (this.stopping) return;
        const request = {
          commandId: `tick:${entry.id}:${tick.nominal}`,
          userId: entry.userId,
          aggregateId: entry.id,
        };
        try {
          const jobId = jobIdForTick(entry.id, tick.nominal);
          // Under cancel_running the event names the jobs it replaces; the job-lifecycle reactor
          // cancels them, at least once, so a crash right after this append loses no cancel.
          await this.deps.commands.handle(workflowDecider, {
            ...request,
            command:
              action === 'fire'
                ? {
                    type: 'FireTick',
                    data: { nominal_at: tick.nominal, job_id: jobId, overlap: entry.overlap },
                  }
                : { type: 'SkipTick', data: { nominal_at: tick.nominal, reason: action } },
          });
        } catch (err) {
          // Terminated or deleted meanwhile: the next refresh drops it.
          if (err instanceof AppError) {
            this.entries.delete(entry.id);
            return;
          }
          throw err;
        }
        entry.lastTickAt = tick.at.getTime();
        entry.nextDueAt = undefined;
      }
    } finally {
      entry.busy = false;
    }
  }

  async stop(): Promise<void> {
    this.stopping = true;
    for (const t of this.timers) clearInterval(t);
    await this.pass;
  }
}
