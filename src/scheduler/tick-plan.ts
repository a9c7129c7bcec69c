// The scheduler's decisions without I/O: which ticks of a workflow to decide now, and as which
// command on the workflow actor. The scheduling loop (tick-scheduler.ts) feeds it the workflow's
// schedule, its last decided tick and the time, and sends what it returns.
import { nameBasedUuid } from '../events/name-based-id.ts';
import type {
  CatchUpPolicy,
  OverlapPolicy,
  WorkflowCommand,
  WorkflowSchedule,
} from '../events/workflow-events.ts';
import { type Tick, ticksBetween } from './due-times.ts';
import type { ScheduleSpec } from './schedule.ts';

export function jobIdForTick(workflowId: string, nominal: string): string {
  return nameBasedUuid(`tick\n${workflowId}\n${nominal}`);
}

/** The workflow's schedule as the scheduler computes with it: anchored at creation, jittered by its id. */
export function specOf(schedule: WorkflowSchedule, createdAt: Date, workflowId: string): ScheduleSpec {
  return { ...schedule, anchor: createdAt.toISOString(), jitter_key: workflowId } as ScheduleSpec;
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

/** What the scheduler knows of one workflow when it plans. */
export interface TickPlanInput {
  readonly workflowId: string;
  readonly spec: ScheduleSpec;
  readonly overlap: OverlapPolicy;
  readonly catchUp: CatchUpPolicy;
  /** The last tick decided as far as the scheduler knows (ms), null when none. */
  readonly lastTickAt: number | null;
  readonly paused: boolean;
  /** The schedule's end marker (see endTick). */
  readonly end: Tick | null;
}

export interface TickPlanOptions {
  readonly lookaheadMs: number;
  readonly graceMs: number;
  readonly catchUpWindowMs: number;
  readonly maxTicks: number;
}

export interface TickStep {
  readonly tick: DueTick;
  /** Sent before the tick is due: only a FireTick is, and the workflow may leave it undecided. */
  readonly ahead: boolean;
  readonly commandId: string;
  readonly command: WorkflowCommand;
}

/**
 * The commands that decide a workflow's ticks now, in order, and (paused) when to look again.
 * A tick is decided ahead (up to `lookaheadMs` before it is due) only as a FireTick marked `ahead`:
 * the workflow fires it then only if nothing before its nominal time can change the answer, and
 * otherwise leaves it for the scheduler to send again when it is due. Skips are recorded when due,
 * never ahead, so that everything decided ahead can be withdrawn by a pause. An ahead and a due
 * decision of one tick have different command ids: a tick withdrawn by a pause is decided again when
 * due, and the log must not take that for a repeat of the first decision.
 */
export function planTickSteps(
  input: TickPlanInput,
  now: number,
  options: TickPlanOptions,
): { steps: TickStep[]; recheckAt?: number } {
  const horizon = now + options.lookaheadMs;
  const max = options.maxTicks;
  // Never ticked: the spec's anchor (creation) bounds the first tick.
  const due = ticksToDecide(input.spec, input.end, new Date(input.lastTickAt ?? 0), new Date(horizon), max);
  if (due.length === 0) return { steps: [] };
  // A full page ending in a tick that is not yet late does not hide newer late ticks.
  const lateBefore = now - (input.paused ? 0 : options.graceMs);
  const more = due.length === max && due[due.length - 1]!.at.getTime() < lateBefore;
  const planOptions = { windowMs: options.catchUpWindowMs, more };
  let after = input.lastTickAt === null ? null : new Date(input.lastTickAt).toISOString();
  const steps: TickStep[] = [];
  const step = (
    tick: DueTick,
    command: (after: string | null, ahead: boolean) => WorkflowCommand,
  ): boolean => {
    const ahead = tick.at.getTime() > now;
    const c = command(after, ahead);
    if (ahead && c.type !== 'FireTick') return false;
    steps.push({
      tick,
      ahead,
      commandId: ahead
        ? `tick:${input.workflowId}:${tick.nominal}`
        : `tick:${input.workflowId}:${tick.nominal}:due`,
      command: c,
    });
    after = tick.nominal;
    return true;
  };
  if (input.paused) {
    const { record, recheckAt } = planWhilePaused(due, now, input.catchUp, { ...planOptions, horizon });
    for (const { tick, reason } of record) {
      if (!step(tick, (a) => ({ type: 'SkipTick', data: { nominal_at: tick.nominal, reason, after: a } })))
        break;
    }
    return { steps, recheckAt };
  }
  for (const { tick, action } of planTicks(due, now, options.graceMs, input.catchUp, planOptions)) {
    const ok = step(tick, (a, ahead) =>
      action === 'fire'
        ? {
            type: 'FireTick',
            data: {
              nominal_at: tick.nominal,
              job_id: jobIdForTick(input.workflowId, tick.nominal),
              overlap: input.overlap,
              ahead,
              after: a,
            },
          }
        : { type: 'SkipTick', data: { nominal_at: tick.nominal, reason: action, after: a } },
    );
    if (!ok) break;
  }
  return { steps };
}
