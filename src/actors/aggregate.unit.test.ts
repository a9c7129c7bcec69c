import { describe, expect, it } from 'vitest';
import { jobCreated, queued, running } from '../../test/support/job-fixtures.ts';
import { builtContainer, fired, paused, terminatedByUser } from '../../test/support/workflow-fixtures.ts';
import { ConflictError } from '../errors.ts';
import type { WorkflowCommand, WorkflowEvent } from '../events/workflow-events.ts';
import {
  applyDecided,
  evolveAll,
  initialSnapshot,
  makeDecider,
  restore,
  snapshotState,
} from './aggregate.ts';
import { jobMachine, jobStatus } from './job-machine.ts';
import { workflowMachine, workflowStatus } from './workflow-machine.ts';

const now = new Date('2026-03-01T12:00:00.000Z');

describe('evolveAll', () => {
  it('folds from the initial snapshot, or from a given one', () => {
    const whole = evolveAll(workflowMachine, [...builtContainer, paused]);
    const inTwoSteps = evolveAll(workflowMachine, [paused], evolveAll(workflowMachine, builtContainer));
    expect(inTwoSteps.value).toEqual(whole.value);
    expect(inTwoSteps.context).toEqual(whole.context);
    expect(evolveAll(workflowMachine, []).value).toEqual(initialSnapshot(workflowMachine).value);
  });
});

describe('snapshotState and restore', () => {
  it('round-trips a workflow through JSON', () => {
    const original = evolveAll(workflowMachine, [
      ...builtContainer,
      fired('j1', '2026-03-01T12:05:00.000Z'),
      paused,
    ]);
    const persisted = JSON.parse(JSON.stringify(snapshotState(original)));
    const restored = restore(workflowMachine, persisted);
    expect(workflowStatus(restored)).toEqual({ lifecycle: 'paused', build: 'COMPLETED' });
    expect(restored.context).toEqual(original.context);
    expect(restored.can(terminatedByUser)).toBe(true);
    expect(restored.can(paused)).toBe(false);
  });

  it('round-trips a job, and continues from it', () => {
    const persisted = JSON.parse(JSON.stringify(snapshotState(evolveAll(jobMachine, running))));
    const restored = restore(jobMachine, persisted);
    expect(jobStatus(restored)).toBe('RUNNING');
    const done = evolveAll(jobMachine, [{ type: 'JobCompleted', data: { attempt: 1 } }], restored);
    expect(jobStatus(done)).toBe('COMPLETED');
  });

  it('is a copy: changing it does not change the snapshot', () => {
    const snapshot = evolveAll(jobMachine, [jobCreated]);
    const persisted = snapshotState(snapshot) as { context: { payload: Record<string, unknown> } };
    persisted.context.payload.image = 'changed';
    expect(snapshot.context.payload).toEqual(jobCreated.data.payload);
  });
});

describe('applyDecided', () => {
  it('applies events the machine accepts', () => {
    expect(jobStatus(applyDecided(jobMachine, evolveAll(jobMachine, [jobCreated]), [queued(1)]))).toBe(
      'QUEUED',
    );
  });

  it('refuses an event the machine would not accept, with invalid_transition', () => {
    expect(() => applyDecided(jobMachine, evolveAll(jobMachine, [jobCreated]), [queued(2)])).toThrowError(
      expect.objectContaining({ code: 'invalid_transition', status: 409 }),
    );
  });
});

describe('makeDecider', () => {
  // A decider with a bug: it pauses whatever the state.
  const buggy = makeDecider<typeof workflowMachine, WorkflowCommand>('workflow', workflowMachine, () => {
    const events: WorkflowEvent[] = [paused];
    return events;
  });

  it('passes events through when the machine accepts them', () => {
    expect(
      buggy.decide({ type: 'PauseWorkflow', data: {} }, evolveAll(workflowMachine, builtContainer), { now }),
    ).toEqual([paused]);
  });

  it('stops a decider bug from writing an impossible history', () => {
    expect(() => buggy.decide({ type: 'PauseWorkflow', data: {} }, undefined, { now })).toThrowError(
      ConflictError,
    );
    expect(() =>
      buggy.decide(
        { type: 'PauseWorkflow', data: {} },
        evolveAll(workflowMachine, [...builtContainer, paused]),
        { now },
      ),
    ).toThrowError(/WorkflowPaused is not allowed/);
  });

  it('gives the snapshot the decided events lead to, as folding them would', () => {
    const built = evolveAll(workflowMachine, builtContainer);
    const { events, next } = buggy.decideNext({ type: 'PauseWorkflow', data: {} }, built, { now });
    expect(events).toEqual([paused]);
    expect(workflowStatus(next).lifecycle).toBe('paused');
    expect(next.context).toEqual(evolveAll(workflowMachine, [paused], built).context);
  });

  it('exposes initialState and evolve for a command handler', () => {
    const state = buggy.evolve(buggy.initialState(), builtContainer[0] as WorkflowEvent);
    expect(workflowStatus(state).lifecycle).toBe('active');
    expect(buggy.aggregate).toBe('workflow');
  });
});
