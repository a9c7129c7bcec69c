// Generic pure helpers over an aggregate's machine: fold events into a snapshot, persist and restore
// a snapshot's plain parts, and the Decider shape a command handler drives (load → evolve → decide →
// append).
import {
  type AnyActorScope,
  type AnyMachineSnapshot,
  type AnyStateMachine,
  type ContextFrom,
  createActor,
  type EventFromLogic,
  initialTransition,
  type SnapshotFrom,
  type StateValue,
} from 'xstate';
import { ConflictError } from '../errors.ts';
import type { AggregateKind } from '../events/domain-event.ts';

/** The snapshot of a machine before any event. */
export function initialSnapshot<M extends AnyStateMachine>(machine: M): SnapshotFrom<M> {
  // Computed once per machine: snapshots are never mutated (every step makes a new one).
  let snapshot = initialSnapshots.get(machine);
  if (!snapshot) {
    // Our machines take no input; the generic signature of initialTransition cannot see that.
    snapshot = initialTransition(machine as AnyStateMachine)[0];
    initialSnapshots.set(machine, snapshot);
  }
  return snapshot as SnapshotFrom<M>;
}

const initialSnapshots = new WeakMap<AnyStateMachine, AnyMachineSnapshot>();

// xstate's pure `transition()` builds a throwaway actor (which computes the initial state) for every
// call: a fifth of a scheduler's CPU under load. Our machines only `assign` (applied inside the
// transition itself) and never spawn, so one inert scope per machine serves every step; it is the
// same scope `transition()` builds, minus the per-call construction.
const inertScopes = new WeakMap<AnyStateMachine, AnyActorScope>();

function inertScope(machine: AnyStateMachine): AnyActorScope {
  let scope = inertScopes.get(machine);
  if (!scope) {
    const self = createActor(machine);
    scope = {
      self,
      defer: () => {},
      id: '',
      logger: () => {},
      sessionId: '',
      stopChild: () => {},
      system: self.system,
      emit: () => {},
      actionExecutor: () => {},
    } as unknown as AnyActorScope;
    inertScopes.set(machine, scope);
  }
  return scope;
}

/**
 * The steps evolved during the decision being made (see `makeDecider`), by the snapshot they left.
 * A decider evolves the events it decides to decide the next ones (a job's JobQueued after its
 * JobCreated, a workflow's releases after an outcome, each outcome of a group on the one before), and
 * `applyDecided` then evolves the same events from the same snapshots: a transition is the costliest
 * step of a decision (~10 µs), the lookup is not. Decisions are synchronous, so one at a time.
 */
let decisionSteps: Map<object, { readonly event: object; readonly next: object }> | undefined;

/** One evolve step: the next snapshot; actions are only `assign`s, already applied to it. */
export function evolve<M extends AnyStateMachine>(
  machine: M,
  snapshot: SnapshotFrom<M>,
  event: EventFromLogic<M>,
): SnapshotFrom<M> {
  const step = decisionSteps?.get(snapshot);
  if (step?.event === event) return step.next as SnapshotFrom<M>;
  const next = machine.transition(snapshot, event, inertScope(machine)) as SnapshotFrom<M>;
  decisionSteps?.set(snapshot, { event, next });
  return next;
}

/** Folds events, oldest first, from `from` (default: the initial snapshot). */
export function evolveAll<M extends AnyStateMachine>(
  machine: M,
  events: readonly EventFromLogic<M>[],
  from: SnapshotFrom<M> = initialSnapshot(machine),
): SnapshotFrom<M> {
  return events.reduce<SnapshotFrom<M>>((snapshot, event) => evolve(machine, snapshot, event), from);
}

/**
 * A machine's context built as an object V8 keeps in fast mode through every `assign`. xstate copies
 * the context on each assign (`Object.assign({}, context, update)`). V8 copies a fast object that
 * way by cloning its layout only for some layouts: an object literal's or a `JSON.parse` result's
 * (their properties stored inside the object) is copied key by key instead, and past a dozen keys
 * that copy becomes a hash-table (dictionary) object, as does every copy of it after. A workflow's
 * context (22 keys) was such a copy from its first event on: ~6 µs per assign and a hash lookup for
 * every read of it, more than half the CPU of deciding a FireTick. A `structuredClone` result is
 * copied by its layout and stays fast (checked with `%HasFastProperties`:
 * src/actors/fast-context.unit.test.ts). Adding a key the object lacks also ends the fast layout, so a
 * machine's empty context lists every key its events may set (undefined when absent).
 */
export function fastContext<C extends object>(context: C): C {
  return structuredClone(context);
}

/** The part of a snapshot worth persisting: both are plain JSON. */
export type PersistedState<C> = { readonly value: StateValue; readonly context: C };

export function snapshotState<M extends AnyStateMachine>(
  snapshot: SnapshotFrom<M>,
): PersistedState<ContextFrom<M>> {
  const { value, context } = snapshot as AnyMachineSnapshot;
  // A copy, so that whoever stores it cannot reach into the live snapshot.
  return structuredClone({ value, context: context as ContextFrom<M> });
}

export function restore<M extends AnyStateMachine>(
  machine: M,
  persisted: PersistedState<ContextFrom<M>>,
): SnapshotFrom<M> {
  // Copied the way xstate's assign copies (see fastContext): onto the empty context's layout, which
  // also gives back the keys JSON dropped for being undefined. A shallow copy; a deep one
  // (structuredClone) was a twelfth of an executor's CPU, which restores every job it is dispatched.
  const empty = (initialSnapshot(machine) as AnyMachineSnapshot).context as object;
  const context = Object.assign({}, empty, persisted.context) as ContextFrom<M>;
  return machine.resolveState({ value: persisted.value, context }) as SnapshotFrom<M>;
}

/**
 * Applies decided events to `snapshot`, refusing any the machine would not accept: the machine is
 * the last guard against a decider bug writing an impossible history.
 */
export function applyDecided<M extends AnyStateMachine>(
  machine: M,
  snapshot: SnapshotFrom<M>,
  events: readonly EventFromLogic<M>[],
): SnapshotFrom<M> {
  return events.reduce<SnapshotFrom<M>>((current, event) => {
    const state = current as AnyMachineSnapshot;
    if (!state.can(event)) {
      throw new ConflictError('invalid_transition', `${event.type} is not allowed in the current state`, {
        details: { state: state.value, event: event.type },
      });
    }
    return evolve(machine, current, event);
  }, snapshot);
}

/** Time enters decisions from outside. */
export type DecideContext = { readonly now: Date };

/** What a generic command handler needs from one aggregate. */
export type Decider<M extends AnyStateMachine, C extends { readonly type: string }> = {
  readonly aggregate: AggregateKind;
  readonly machine: M;
  initialState(): SnapshotFrom<M>;
  evolve(state: SnapshotFrom<M>, event: EventFromLogic<M>): SnapshotFrom<M>;
  /** `state` undefined means the aggregate has no events yet. Throws an AppError to refuse. */
  decide(command: C, state: SnapshotFrom<M> | undefined, ctx: DecideContext): readonly EventFromLogic<M>[];
  /** `decide`, with the snapshot the events lead to (computed anyway, to check them). */
  decideNext(
    command: C,
    state: SnapshotFrom<M> | undefined,
    ctx: DecideContext,
  ): { readonly events: readonly EventFromLogic<M>[]; readonly next: SnapshotFrom<M> };
};

/** Builds a Decider whose `decide` is checked against the machine (see `applyDecided`). */
export function makeDecider<M extends AnyStateMachine, C extends { readonly type: string }>(
  aggregate: AggregateKind,
  machine: M,
  decide: (command: C, state: SnapshotFrom<M>, ctx: DecideContext) => readonly EventFromLogic<M>[],
): Decider<M, C> {
  const decideNext: Decider<M, C>['decideNext'] = (command, state, ctx) => {
    const current = state ?? initialSnapshot(machine);
    decisionSteps = new Map();
    try {
      const events = decide(command, current, ctx);
      return { events, next: applyDecided(machine, current, events) };
    } finally {
      decisionSteps = undefined;
    }
  };
  return {
    aggregate,
    machine,
    initialState: () => initialSnapshot(machine),
    evolve: (state, event) => evolve(machine, state, event),
    decide: (command, state, ctx) => decideNext(command, state, ctx).events,
    decideNext,
  };
}
