// Given/when/then for deciders, so specs read as: given these events, when this command, then these
// events (or this error).

import { expect } from 'vitest';
import type { AnyStateMachine, EventFromLogic } from 'xstate';
import { type DecideContext, type Decider, evolveAll } from '../../src/actors/aggregate.ts';
import type { AppError } from '../../src/errors.ts';

type ErrorClass = abstract new (...args: never[]) => AppError;

export type Scenario<M extends AnyStateMachine, C extends { readonly type: string }> = {
  when(command: C): {
    /** The decided events equal `expected`; returns them for further checks. */
    then(expected: readonly EventFromLogic<M>[]): readonly EventFromLogic<M>[];
    thenThrows(errorClass: ErrorClass, code: string): void;
  };
};

export function specFor<M extends AnyStateMachine, C extends { readonly type: string }>(
  decider: Decider<M, C>,
  ctx: DecideContext,
): (given: readonly EventFromLogic<M>[]) => Scenario<M, C> {
  return (given) => ({
    when: (command) => {
      // No history at all is passed as `undefined`, as a command handler does for a new stream.
      const decide = () =>
        decider.decide(command, given.length === 0 ? undefined : evolveAll(decider.machine, given), ctx);
      return {
        // biome-ignore lint/suspicious/noThenProperty: the spec reads given/when/then; it is never awaited.
        then: (expected) => {
          const events = decide();
          expect(events).toEqual(expected);
          return events;
        },
        thenThrows: (errorClass, code) => {
          let caught: unknown;
          try {
            decide();
          } catch (error) {
            caught = error;
          }
          expect(caught).toBeInstanceOf(errorClass);
          expect((caught as AppError).code).toBe(code);
        },
      };
    },
  });
}
