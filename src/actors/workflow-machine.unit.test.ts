import { describe, expect, it } from 'vitest';
import {
  buildCompleted,
  buildQueued,
  buildStarted,
  builtContainer,
  containerCreated,
  deleted,
  fired,
  heartbeatCreated,
  outcomeRecorded,
  paused,
  ranNow,
  resumed,
  terminatedByUser,
} from '../../test/support/workflow-fixtures.ts';
import type { WorkflowEvent } from '../events/workflow-events.ts';
import { evolveAll } from './aggregate.ts';
import { RECORDED_OUTCOMES_KEPT, workflowMachine, workflowStatus } from './workflow-machine.ts';

const T1 = '2026-03-01T12:05:00.000Z';
const state = (events: readonly WorkflowEvent[]) => evolveAll(workflowMachine, events);
const canceled: WorkflowEvent = { type: 'WorkflowBuildCanceled', data: {} };
const failed: WorkflowEvent = { type: 'WorkflowBuildFailed', data: { reason: 'pull failed' } };

describe('workflow machine', () => {
  it('starts new and accepts only WorkflowCreated', () => {
    const initial = state([]);
    expect(workflowStatus(initial)).toEqual({ lifecycle: 'new', build: 'NONE' });
    expect(initial.can(paused)).toBe(false);
    expect(initial.can(buildQueued)).toBe(false);
    expect(initial.can(fired('j1', T1))).toBe(false);
    expect(initial.can(containerCreated)).toBe(true);
  });

  it('holds the definition once created', () => {
    const created = state([containerCreated]);
    expect(workflowStatus(created)).toEqual({ lifecycle: 'active', build: 'NONE' });
    expect(created.context).toMatchObject({
      ...containerCreated.data,
      consecutive_failures: 0,
      definition_version: 1,
    });
    expect(created.can(containerCreated)).toBe(false);
  });

  describe('lifecycle', () => {
    it.each([
      ['active → paused', [paused], 'paused'],
      ['paused → active', [paused, resumed], 'active'],
      ['active → terminated', [terminatedByUser], 'terminated'],
      ['paused → terminated', [paused, terminatedByUser], 'terminated'],
      ['terminated → deleted', [terminatedByUser, deleted], 'deleted'],
    ] as [string, WorkflowEvent[], string][])('%s', (_name, events, lifecycle) => {
      expect(workflowStatus(state([...builtContainer, ...events])).lifecycle).toBe(lifecycle);
    });

    it.each([
      ['resume an active workflow', [], resumed],
      ['pause a paused workflow', [paused], paused],
      ['delete an active workflow', [], deleted],
      ['delete a paused workflow', [paused], deleted],
      ['pause a terminated workflow', [terminatedByUser], paused],
      ['resume a terminated workflow', [terminatedByUser], resumed],
      ['terminate twice', [terminatedByUser], terminatedByUser],
      [
        'update a terminated workflow',
        [terminatedByUser],
        { type: 'WorkflowUpdated', data: { changes: {}, rebuild: false } },
      ],
      ['fire a paused workflow', [paused], fired('j1', T1)],
      ['fire a terminated workflow', [terminatedByUser], fired('j1', T1)],
      ['run a terminated workflow now', [terminatedByUser], ranNow('j1', T1)],
      ['delete with an active job', [fired('j1', T1), terminatedByUser], deleted],
      ['do anything once deleted', [terminatedByUser, deleted], outcomeRecorded('j1', 'FAILED', 1)],
    ] as [string, WorkflowEvent[], WorkflowEvent][])('cannot %s', (_name, events, event) => {
      expect(state([...builtContainer, ...events]).can(event)).toBe(false);
    });

    it('lets a paused workflow run now', () => {
      expect(state([...builtContainer, paused]).can(ranNow('m1', T1))).toBe(true);
    });

    it('keeps the termination reason', () => {
      const terminated = state([
        ...builtContainer,
        { type: 'WorkflowTerminated', data: { reason: 'consecutive_failures' } },
      ]);
      expect(terminated.context.terminated_reason).toBe('consecutive_failures');
    });

    it('ends in a final state when deleted', () => {
      expect(state([...builtContainer, terminatedByUser, deleted]).status).toBe('done');
    });
  });

  describe('build', () => {
    it.each([
      ['queued', [containerCreated, buildQueued], 'QUEUED'],
      ['started', [containerCreated, buildQueued, buildStarted], 'STARTED'],
      ['completed', builtContainer, 'COMPLETED'],
      ['failed', [containerCreated, buildQueued, buildStarted, failed], 'FAILED'],
      ['canceled while queued', [containerCreated, buildQueued, canceled], 'CANCELED'],
      ['canceled while started', [containerCreated, buildQueued, buildStarted, canceled], 'CANCELED'],
      ['queued again after completing', [...builtContainer, buildQueued], 'QUEUED'],
      [
        'queued again after failing',
        [containerCreated, buildQueued, buildStarted, failed, buildQueued],
        'QUEUED',
      ],
      ['queued again after a cancel', [containerCreated, buildQueued, canceled, buildQueued], 'QUEUED'],
      ['completed at creation for a HEARTBEAT', [heartbeatCreated, buildCompleted], 'COMPLETED'],
    ] as [string, WorkflowEvent[], string][])('%s', (_name, events, build) => {
      expect(workflowStatus(state(events)).build).toBe(build);
    });

    it.each([
      ['start a build never queued', [containerCreated], buildStarted],
      ['complete a CONTAINER build never started', [containerCreated], buildCompleted],
      ['complete a queued build', [containerCreated, buildQueued], buildCompleted],
      ['fail a queued build', [containerCreated, buildQueued], failed],
      ['queue a build already queued', [containerCreated, buildQueued], buildQueued],
      ['start a completed build', builtContainer, buildStarted],
      ['cancel a completed build', builtContainer, canceled],
    ] as [string, WorkflowEvent[], WorkflowEvent][])('cannot %s', (_name, events, event) => {
      expect(state(events).can(event)).toBe(false);
    });

    it('keeps the digest of the completed build and the reason of a failed one', () => {
      const digest: WorkflowEvent = { type: 'WorkflowBuildCompleted', data: { image_digest: 'sha256:1' } };
      expect(state([containerCreated, buildQueued, buildStarted, digest]).context.image_digest).toBe(
        'sha256:1',
      );
      expect(state([containerCreated, buildQueued, buildStarted, failed]).context.build_failure_reason).toBe(
        'pull failed',
      );
    });

    it('does not schedule jobs before the build completes', () => {
      expect(state([containerCreated, buildQueued]).can(fired('j1', T1))).toBe(false);
      expect(state([containerCreated, buildQueued]).can(ranNow('j1', T1))).toBe(false);
    });
  });

  describe('context', () => {
    it('applies updates and counts definition versions', () => {
      const updated = state([
        ...builtContainer,
        {
          type: 'WorkflowUpdated',
          data: { changes: { name: 'renamed', payload: { image: 'b' } }, rebuild: true },
        },
      ]);
      expect(updated.context).toMatchObject({
        name: 'renamed',
        payload: { image: 'b' },
        definition_version: 2,
      });
      expect(updated.context.schedule).toEqual(containerCreated.data.schedule);
    });

    it('tracks fired ticks and active jobs', () => {
      const after = state([...builtContainer, fired('j1', T1), ranNow('m1', '2026-03-01T12:07:00.000Z')]);
      expect(after.context).toMatchObject({
        last_fired_at: T1,
        last_tick_at: T1,
        active_job_ids: ['j1', 'm1'],
      });
    });

    it('moves a tick forward when it is skipped', () => {
      const after = state([
        ...builtContainer,
        { type: 'TickSkipped', data: { nominal_at: T1, reason: 'paused' } },
      ]);
      expect(after.context).toMatchObject({ last_fired_at: null, last_tick_at: T1 });
    });

    it('moves a job from active to recorded, remembering a bounded number', () => {
      const events: WorkflowEvent[] = [...builtContainer];
      for (let i = 0; i < RECORDED_OUTCOMES_KEPT + 5; i++) {
        events.push(ranNow(`j${i}`, T1), outcomeRecorded(`j${i}`, 'COMPLETED', 0));
      }
      const after = state(events);
      expect(after.context.active_job_ids).toEqual([]);
      expect(after.context.recorded_job_ids).toHaveLength(RECORDED_OUTCOMES_KEPT);
      expect(after.context.recorded_job_ids[0]).toBe('j5');
    });

    it('takes the failure count from the recorded outcome', () => {
      expect(
        state([...builtContainer, fired('j1', T1), outcomeRecorded('j1', 'FAILED', 1)]).context
          .consecutive_failures,
      ).toBe(1);
    });
  });
});
