// The scheduling loop of one replica. It follows the schedulable workflows (active or paused, built)
// from the read model, keeps those that rendezvous hashing gives to it, and turns every nominal tick
// into exactly one command on the workflow actor: FireTick (the actor answers JobScheduled, or
// TickSkipped when paused or overlapping) or SkipTick (missed in a catch-up, paused, a DST gap under
// `skip`, or the first tick after the schedule's end). Ticks are decided up to `lookaheadMs` early, so
// at the due instant only the dispatch of an already created job remains; the job is not run before
// its nominal time (the dispatch carries it as not_before). The actor remembers its last decided tick
// and only moves forward, so a replica that fires a tick another replica already fired appends
// nothing. While a workflow is paused, the ticks its catch-up policy would fire on resume are left
// undecided (see planWhilePaused); the rest are recorded as paused when they fall due.
import type { Kysely } from 'kysely';
import type { CommandHandler } from '../actors/command-handler.ts';
import { workflowDecider } from '../actors/workflow-decider.ts';
import { workflowStatus } from '../actors/workflow-machine.ts';
import { AppError } from '../errors.ts';
import { nameBasedUuid } from '../events/name-based-id.ts';
import type { OverlapPolicy, WorkflowCommand, WorkflowSchedule } from '../events/workflow-events.ts';
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
  /** Whether ticks are planned as for a paused workflow: the read model's view, corrected by the actor. */
  paused: boolean;
  /** `paused` was set by the actor's answer to a fire, ahead of the read model. */
  pausedByActor: boolean;
  /** The read model's status at the last refresh: only a change of it overrides what the actor said. */
  statusSeen: string;
  /** Paused with every due tick held for the catch-up: nothing to decide before this instant. */
  holdUntil: number;
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

/**
 * The ticks of a paused workflow that can be recorded now, and when to look again if none can.
 * Catch-up on resume is the same catch-up as after an outage: the ticks that fell due while paused
 * are late, and the policy picks those that fire (`latest` the newest, `all` those within the
 * window, `none` none). To let it pick on resume, exactly the ticks it would fire if the workflow
 * were resumed now stay undecided ("held"), and every other due tick is recorded as `paused` once it
 * is due (or as dst_skipped / end_reached). Resuming then fires the held ones; every nominal tick
 * still ends as one event, and a long pause costs no burst of decisions on resume. No grace applies
 * while paused: a due tick is not "a little late", it is not running. The ledger only moves forward,
 * so only the ticks before the first held one are recorded; later ones wait behind it (a future tick
 * counts as held: nothing is decided ahead while paused).
 */
export function planWhilePaused(
  ticks: readonly DueTick[],
  now: number,
  policy: CatchUpPolicy,
  options: { windowMs?: number; more?: boolean; horizon: number },
): {
  record: { tick: DueTick; reason: 'paused' | 'dst_skipped' | 'end_reached' }[];
  /** When the first held tick may stop being held; `now` when there is something to record. */
  recheckAt: number;
} {
  const plan = planTicks(ticks, now, 0, policy, options);
  const firstHeld = plan.findIndex((p) => p.action === 'fire');
  const recordable = firstHeld === -1 ? plan : plan.slice(0, firstHeld);
  const record = recordable.map(({ tick, action }) => ({
    tick,
    reason: action === 'missed' ? ('paused' as const) : (action as 'dst_skipped' | 'end_reached'),
  }));
  if (record.length > 0 || firstHeld === -1) return { record, recheckAt: now };
  const held = plan[firstHeld]!.tick.at.getTime();
  // The held tick becomes recordable: under `none` once due; under `latest` once a newer one is due
  // (beyond this page means beyond the horizon); under `all` once it leaves the window.
  const nextFiring = plan.slice(firstHeld + 1).find((p) => p.action !== 'dst_skipped' && !p.tick.end);
  const windowMs = options.windowMs ?? Number.POSITIVE_INFINITY;
  const recheckAt =
    policy === 'none'
      ? held + 1
      : policy === 'latest'
        ? nextFiring
          ? nextFiring.tick.at.getTime() + 1
          : options.horizon
        : held + windowMs + 1;
  return { record, recheckAt: Math.max(now, Math.min(recheckAt, Number.MAX_SAFE_INTEGER)) };
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
      .select(['id', 'user_id', 'schedule', 'created_at', 'last_tick_at', 'status'])
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
          paused: r.status === 'PAUSED',
          pausedByActor: false,
          statusSeen: r.status,
          holdUntil: 0,
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
        });
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
    const horizon = now + this.o.lookaheadMs;
    const max = this.o.maxTicksPerPass;
    const due = ticksToDecide(entry.spec, this.endTickOf(entry), after, new Date(horizon), max);
    if (due.length === 0) return;
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
      // A full page ending in a tick that is not yet late does not hide newer late ticks.
      const lateBefore = now - (entry.paused ? 0 : this.o.graceMs);
      const more = due.length === max && due[due.length - 1]!.at.getTime() < lateBefore;
      const options = { windowMs: this.o.catchUpWindowMs, more };
      let steps: { tick: DueTick; command: WorkflowCommand }[];
      if (entry.paused) {
        const { record, recheckAt } = planWhilePaused(due, now, entry.catchUp, { ...options, horizon });
        // On the actor's word alone, look again soon: the resume that ends it may not show otherwise.
        entry.holdUntil = entry.pausedByActor ? Math.min(recheckAt, now + 5000) : recheckAt;
        steps = record.map(({ tick, reason }) => ({
          tick,
          command: { type: 'SkipTick', data: { nominal_at: tick.nominal, reason } },
        }));
      } else {
        steps = planTicks(due, now, this.o.graceMs, entry.catchUp, options).map(({ tick, action }) => ({
          tick,
          command:
            action === 'fire'
              ? {
                  type: 'FireTick',
                  data: {
                    nominal_at: tick.nominal,
                    job_id: jobIdForTick(entry.id, tick.nominal),
                    overlap: entry.overlap,
                  },
                }
              : { type: 'SkipTick', data: { nominal_at: tick.nominal, reason: action } },
        }));
      }
      for (const { tick, command } of steps) {
        if (this.stopping) return;
        let events: readonly { type: string; data: unknown }[];
        try {
          ({ events } = await this.deps.commands.handle(workflowDecider, {
            commandId: `tick:${entry.id}:${tick.nominal}`,
            userId: entry.userId,
            aggregateId: entry.id,
            command,
          }));
        } catch (err) {
          if (err instanceof AppError && err.code === 'workflow_not_paused') {
            // Resumed and the read model does not show it yet: the tick stays undecided, and the
            // next pass plans it as an active one (it may have to fire).
            Object.assign(entry, { paused: false, pausedByActor: false, holdUntil: 0 });
            return;
          }
          // Terminated or deleted meanwhile: the next refresh drops it.
          if (err instanceof AppError) {
            this.entries.delete(entry.id);
            return;
          }
          throw err;
        }
        entry.lastTickAt = tick.at.getTime();
        entry.nextDueAt = undefined;
        const skipped = events.find((e) => e.type === 'TickSkipped')?.data as { reason?: string } | undefined;
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

  async stop(): Promise<void> {
    this.stopping = true;
    for (const t of this.timers) clearInterval(t);
    await this.pass;
  }
}
