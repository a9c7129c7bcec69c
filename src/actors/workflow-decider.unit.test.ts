import { describe, expect, it } from 'vitest';
import { specFor } from '../../test/support/decider-spec.ts';
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
import { ConflictError, NotFoundError, PreconditionFailedError, ValidationError } from '../errors.ts';
import { nameBasedUuid } from '../events/name-based-id.ts';
import { CHAIN_MAX_DEPTH, type WorkflowEvent } from '../events/workflow-events.ts';
import { jitteredTime } from '../workflows/jitter.ts';
import { evolveAll } from './aggregate.ts';
import { backfillJobId, jobEndsMayWaitForRecord, workflowDecider } from './workflow-decider.ts';
import { workflowMachine, workflowStatus } from './workflow-machine.ts';

const now = new Date('2026-03-01T12:00:00.000Z');
const given = specFor(workflowDecider, { now });
const T1 = '2026-03-01T12:05:00.000Z';
const T2 = '2026-03-01T12:10:00.000Z';

describe('CreateWorkflow', () => {
  it('queues the build of a CONTAINER workflow', () => {
    given([])
      .when({ type: 'CreateWorkflow', data: containerCreated.data })
      .then([containerCreated, buildQueued]);
  });

  it('completes the build of a HEARTBEAT workflow at once: there is nothing to build', () => {
    given([])
      .when({ type: 'CreateWorkflow', data: heartbeatCreated.data })
      .then([heartbeatCreated, buildCompleted]);
  });

  it('accepts a cron schedule with a time zone', () => {
    const schedule = { type: 'cron', cron: '*/5 * * * *', timezone: 'Europe/Paris' } as const;
    const [created] = given([])
      .when({ type: 'CreateWorkflow', data: { ...containerCreated.data, schedule } })
      .then([{ ...containerCreated, data: { ...containerCreated.data, schedule } }, buildQueued]);
    expect(created).toBeDefined();
  });

  it('refuses to create a workflow twice', () => {
    given([containerCreated])
      .when({ type: 'CreateWorkflow', data: containerCreated.data })
      .thenThrows(ConflictError, 'workflow_already_exists');
  });

  it.each([
    ['an empty name', { name: ' ' }, 'invalid_name'],
    ['a name too long', { name: 'x'.repeat(256) }, 'invalid_name'],
    ['an unknown kind', { kind: 'LAMBDA' }, 'invalid_kind'],
    ['a CONTAINER without image', { payload: { cmd: ['true'] } }, 'invalid_payload'],
    ['a HEARTBEAT without endpoint', { kind: 'HEARTBEAT', payload: { image: 'x' } }, 'invalid_payload'],
    ['an interval of 0 minutes', { schedule: { type: 'interval', minutes: 0 } }, 'invalid_schedule'],
    ['an interval over a week', { schedule: { type: 'interval', minutes: 10_081 } }, 'invalid_schedule'],
    [
      'a cron without time zone',
      { schedule: { type: 'cron', cron: '* * * * *', timezone: '' } },
      'invalid_schedule',
    ],
    ['an unknown schedule type', { schedule: { type: 'sometimes' } }, 'invalid_schedule'],
    [
      'a failure limit of 2',
      { max_consecutive_job_failures_allowed: 2 },
      'invalid_max_consecutive_job_failures_allowed',
    ],
    [
      'a failure limit of 101',
      { max_consecutive_job_failures_allowed: 101 },
      'invalid_max_consecutive_job_failures_allowed',
    ],
    ['an empty workflow id', { workflow_id: '' }, 'invalid_id'],
  ])('refuses %s', (_name, override, code) => {
    const data = { ...containerCreated.data, ...override } as typeof containerCreated.data;
    given([]).when({ type: 'CreateWorkflow', data }).thenThrows(ValidationError, code);
  });
});

describe('log_retention', () => {
  const { log_retention: _, ...withoutRetention } = containerCreated.data;
  const noRetention = { ...containerCreated, data: { ...containerCreated.data, log_retention: false } };

  it('is written as true on a new workflow that does not name it', () => {
    given([]).when({ type: 'CreateWorkflow', data: withoutRetention }).then([containerCreated, buildQueued]);
  });

  it('is kept as false when the workflow asks for it', () => {
    given([]).when({ type: 'CreateWorkflow', data: noRetention.data }).then([noRetention, buildQueued]);
  });

  it('refuses anything but a boolean', () => {
    const data = { ...containerCreated.data, log_retention: 'no' } as unknown as typeof containerCreated.data;
    given([]).when({ type: 'CreateWorkflow', data }).thenThrows(ValidationError, 'invalid_log_retention');
    given(builtContainer)
      .when({ type: 'UpdateWorkflow', data: { log_retention: 0 as unknown as boolean } })
      .thenThrows(ValidationError, 'invalid_log_retention');
  });

  it('changes by update, without a rebuild, and a repeat is a no-op', () => {
    given(builtContainer)
      .when({ type: 'UpdateWorkflow', data: { log_retention: false } })
      .then([{ type: 'WorkflowUpdated', data: { changes: { log_retention: false }, rebuild: false } }]);
    given([noRetention, buildQueued, buildStarted, buildCompleted])
      .when({ type: 'UpdateWorkflow', data: { log_retention: false } })
      .then([]);
  });

  it('is true for a workflow created before the field existed', () => {
    const old = { ...containerCreated, data: withoutRetention };
    given([old, buildQueued, buildStarted, buildCompleted])
      .when({ type: 'UpdateWorkflow', data: { log_retention: true } })
      .then([]);
    expect(evolveAll(workflowMachine, [old]).context.log_retention).toBe(true);
  });
});

describe('a workflow that does not exist', () => {
  it.each([
    ['never created', []],
    ['deleted', [...builtContainer, terminatedByUser, deleted]],
  ] as [string, WorkflowEvent[]][])('is not found when %s', (_name, history) => {
    given(history).when({ type: 'PauseWorkflow', data: {} }).thenThrows(NotFoundError, 'workflow_not_found');
    given(history)
      .when({ type: 'FireTick', data: { nominal_at: T1, job_id: 'j1' } })
      .thenThrows(NotFoundError, 'workflow_not_found');
  });
});

describe('UpdateWorkflow', () => {
  it('records only the fields that changed', () => {
    given(builtContainer)
      .when({ type: 'UpdateWorkflow', data: { name: 'renamed', max_consecutive_job_failures_allowed: 3 } })
      .then([{ type: 'WorkflowUpdated', data: { changes: { name: 'renamed' }, rebuild: false } }]);
  });

  it('is a no-op when nothing changes (key order does not matter)', () => {
    given(builtContainer)
      .when({ type: 'UpdateWorkflow', data: { payload: { cmd: ['echo', 'hi'], image: 'alpine:3.20' } } })
      .then([]);
  });

  it('reschedules without rebuilding when only the schedule changes', () => {
    const schedule = { type: 'interval', minutes: 10 } as const;
    given(builtContainer)
      .when({ type: 'UpdateWorkflow', data: { schedule } })
      .then([{ type: 'WorkflowUpdated', data: { changes: { schedule }, rebuild: false } }]);
  });

  it('rebuilds a CONTAINER whose payload changed', () => {
    const payload = { image: 'alpine:3.21', cmd: ['echo', 'hi'] };
    given(builtContainer)
      .when({ type: 'UpdateWorkflow', data: { payload } })
      .then([{ type: 'WorkflowUpdated', data: { changes: { payload }, rebuild: true } }, buildQueued]);
  });

  it('cancels a build in progress before queueing the new one', () => {
    const payload = { image: 'alpine:3.21' };
    given([containerCreated, buildQueued, buildStarted])
      .when({ type: 'UpdateWorkflow', data: { payload } })
      .then([
        { type: 'WorkflowUpdated', data: { changes: { payload }, rebuild: true } },
        { type: 'WorkflowBuildCanceled', data: {} },
        buildQueued,
      ]);
  });

  it('leaves an already queued build queued', () => {
    const payload = { image: 'alpine:3.21' };
    given([containerCreated, buildQueued])
      .when({ type: 'UpdateWorkflow', data: { payload } })
      .then([{ type: 'WorkflowUpdated', data: { changes: { payload }, rebuild: true } }]);
  });

  it('rebuilds a CONTAINER whose last build failed', () => {
    const payload = { image: 'alpine:3.21' };
    given([
      containerCreated,
      buildQueued,
      buildStarted,
      { type: 'WorkflowBuildFailed', data: { reason: 'pull' } },
    ])
      .when({ type: 'UpdateWorkflow', data: { payload } })
      .then([{ type: 'WorkflowUpdated', data: { changes: { payload }, rebuild: true } }, buildQueued]);
  });

  it('never rebuilds a HEARTBEAT', () => {
    const payload = { endpoint: 'https://example.com/other' };
    given([heartbeatCreated, buildCompleted])
      .when({ type: 'UpdateWorkflow', data: { payload } })
      .then([{ type: 'WorkflowUpdated', data: { changes: { payload }, rebuild: false } }]);
  });

  it('updates a paused workflow', () => {
    given([...builtContainer, paused])
      .when({ type: 'UpdateWorkflow', data: { name: 'renamed' } })
      .then([{ type: 'WorkflowUpdated', data: { changes: { name: 'renamed' }, rebuild: false } }]);
  });

  it('refuses to update a terminated workflow', () => {
    given([...builtContainer, terminatedByUser])
      .when({ type: 'UpdateWorkflow', data: { name: 'renamed' } })
      .thenThrows(ConflictError, 'workflow_terminated');
  });

  it('refuses an invalid change', () => {
    given(builtContainer)
      .when({ type: 'UpdateWorkflow', data: { schedule: { type: 'interval', minutes: -1 } } })
      .thenThrows(ValidationError, 'invalid_schedule');
  });
});

describe('builds', () => {
  it('starts a queued build', () => {
    given([containerCreated, buildQueued])
      .when({ type: 'StartWorkflowBuild', data: {} })
      .then([buildStarted]);
  });

  it('refuses to start a build that is not queued', () => {
    given(builtContainer)
      .when({ type: 'StartWorkflowBuild', data: {} })
      .thenThrows(ConflictError, 'build_not_queued');
  });

  it('refuses to start a build of a terminated workflow', () => {
    given([containerCreated, buildQueued, terminatedByUser])
      .when({ type: 'StartWorkflowBuild', data: {} })
      .thenThrows(ConflictError, 'workflow_terminated');
  });

  it('completes a started build with its image digest', () => {
    given([containerCreated, buildQueued, buildStarted])
      .when({ type: 'CompleteWorkflowBuild', data: { image_digest: 'sha256:abc' } })
      .then([{ type: 'WorkflowBuildCompleted', data: { image_digest: 'sha256:abc' } }]);
  });

  it('fails a started build with its reason', () => {
    given([containerCreated, buildQueued, buildStarted])
      .when({ type: 'FailWorkflowBuild', data: { reason: 'image not found' } })
      .then([{ type: 'WorkflowBuildFailed', data: { reason: 'image not found' } }]);
  });

  it('refuses a build failure without a reason', () => {
    given([containerCreated, buildQueued, buildStarted])
      .when({ type: 'FailWorkflowBuild', data: { reason: '' } })
      .thenThrows(ValidationError, 'invalid_reason');
  });

  it.each([
    ['queued', [containerCreated, buildQueued]],
    [
      'canceled by an update',
      [containerCreated, buildQueued, { type: 'WorkflowBuildCanceled', data: {} }, buildQueued],
    ],
    ['completed', builtContainer],
  ] as [string, WorkflowEvent[]][])('refuses to finish a build that is %s', (_name, history) => {
    given(history)
      .when({ type: 'CompleteWorkflowBuild', data: {} })
      .thenThrows(ConflictError, 'build_not_started');
    given(history)
      .when({ type: 'FailWorkflowBuild', data: { reason: 'x' } })
      .thenThrows(ConflictError, 'build_not_started');
  });
});

describe('pause, resume, terminate', () => {
  it('pauses an active workflow and resumes it', () => {
    given(builtContainer).when({ type: 'PauseWorkflow', data: {} }).then([paused]);
    given([...builtContainer, paused])
      .when({ type: 'ResumeWorkflow', data: {} })
      .then([{ type: 'WorkflowResumed', data: {} }]);
  });

  it('refuses to pause twice or resume what is not paused', () => {
    given([...builtContainer, paused])
      .when({ type: 'PauseWorkflow', data: {} })
      .thenThrows(ConflictError, 'workflow_already_paused');
    given(builtContainer)
      .when({ type: 'ResumeWorkflow', data: {} })
      .thenThrows(ConflictError, 'workflow_not_paused');
  });

  it('terminates an active or paused workflow, once', () => {
    given(builtContainer).when({ type: 'TerminateWorkflow', data: {} }).then([terminatedByUser]);
    given([...builtContainer, paused])
      .when({ type: 'TerminateWorkflow', data: {} })
      .then([terminatedByUser]);
    given([...builtContainer, terminatedByUser])
      .when({ type: 'TerminateWorkflow', data: {} })
      .thenThrows(ConflictError, 'workflow_already_terminated');
  });

  it('refuses to pause or resume a terminated workflow', () => {
    const history = [...builtContainer, terminatedByUser];
    given(history).when({ type: 'PauseWorkflow', data: {} }).thenThrows(ConflictError, 'workflow_terminated');
    given(history)
      .when({ type: 'ResumeWorkflow', data: {} })
      .thenThrows(ConflictError, 'workflow_terminated');
  });
});

describe('DeleteWorkflow', () => {
  it('requires the workflow to be terminated', () => {
    given(builtContainer)
      .when({ type: 'DeleteWorkflow', data: {} })
      .thenThrows(PreconditionFailedError, 'workflow_not_terminated');
    given([...builtContainer, paused])
      .when({ type: 'DeleteWorkflow', data: {} })
      .thenThrows(PreconditionFailedError, 'workflow_not_terminated');
  });

  it('requires no job to be running', () => {
    given([...builtContainer, fired('j1', T1), terminatedByUser])
      .when({ type: 'DeleteWorkflow', data: {} })
      .thenThrows(PreconditionFailedError, 'workflow_has_active_jobs');
  });

  it('deletes a terminated workflow once its jobs are finished', () => {
    given([...builtContainer, fired('j1', T1), terminatedByUser, outcomeRecorded('j1', 'COMPLETED', 0)])
      .when({ type: 'DeleteWorkflow', data: {} })
      .then([deleted]);
  });
});

describe('FireTick', () => {
  it('schedules the job of a tick, at its nominal time in canonical form', () => {
    given(builtContainer)
      .when({ type: 'FireTick', data: { nominal_at: '2026-03-01T13:05:00+01:00', job_id: 'j1' } })
      .then([fired('j1', T1)]);
  });

  it('appends once when the same tick is fired twice', () => {
    const first = workflowDecider.decide(
      { type: 'FireTick', data: { nominal_at: T1, job_id: 'j1' } },
      evolveAll(workflowMachine, builtContainer),
      { now },
    );
    expect(first).toEqual([fired('j1', T1)]);
    given([...builtContainer, ...first])
      .when({ type: 'FireTick', data: { nominal_at: T1, job_id: 'j1' } })
      .then([]);
  });

  it('ignores a tick earlier than the last one decided, fired or skipped', () => {
    given([...builtContainer, fired('j2', T2)])
      .when({ type: 'FireTick', data: { nominal_at: T1, job_id: 'j1' } })
      .then([]);
    given([...builtContainer, { type: 'TickSkipped', data: { nominal_at: T1, reason: 'missed' } }])
      .when({ type: 'FireTick', data: { nominal_at: T1, job_id: 'j1' } })
      .then([]);
  });

  it('fires the next tick after a manual run', () => {
    given([...builtContainer, ranNow('m1', T2)])
      .when({ type: 'FireTick', data: { nominal_at: T1, job_id: 'j1' } })
      .then([fired('j1', T1)]);
  });

  it.each([
    ['paused', [...builtContainer, paused]],
    ['terminated', [...builtContainer, terminatedByUser]],
    ['not_built', [containerCreated, buildQueued]],
  ] as [string, WorkflowEvent[]][])('skips the tick with reason %s', (reason, history) => {
    given(history)
      .when({ type: 'FireTick', data: { nominal_at: T1, job_id: 'j1' } })
      .then([{ type: 'TickSkipped', data: { nominal_at: T1, reason } } as WorkflowEvent]);
  });

  it('skips an overlapping tick when asked to, and runs it by default', () => {
    const history = [...builtContainer, fired('j1', T1)];
    given(history)
      .when({ type: 'FireTick', data: { nominal_at: T2, job_id: 'j2', overlap: 'skip' } })
      .then([{ type: 'TickSkipped', data: { nominal_at: T2, reason: 'overlap' } }]);
    given(history)
      .when({ type: 'FireTick', data: { nominal_at: T2, job_id: 'j2' } })
      .then([fired('j2', T2)]);
  });

  it('cancel_running: fires, naming the jobs still active as the ones the new job replaces', () => {
    given([...builtContainer, fired('j1', T1), ranNow('m1', T1)])
      .when({ type: 'FireTick', data: { nominal_at: T2, job_id: 'j2', overlap: 'cancel_running' } })
      .then([
        {
          type: 'JobScheduled',
          data: { job_id: 'j2', scheduled_at: T2, trigger: 'AUTOMATIC', replaces: ['j1', 'm1'] },
        },
      ]);
    given([...builtContainer, fired('j1', T1), outcomeRecorded('j1', 'COMPLETED', 0)])
      .when({ type: 'FireTick', data: { nominal_at: T2, job_id: 'j2', overlap: 'cancel_running' } })
      .then([fired('j2', T2)]);
  });

  it('refuses a job id the workflow already used', () => {
    given([...builtContainer, ranNow('j1', T1)])
      .when({ type: 'FireTick', data: { nominal_at: T2, job_id: 'j1' } })
      .thenThrows(ConflictError, 'job_id_taken');
  });

  it('refuses a nominal time that is not an instant, or an empty job id', () => {
    given(builtContainer)
      .when({ type: 'FireTick', data: { nominal_at: 'soon', job_id: 'j1' } })
      .thenThrows(ValidationError, 'invalid_timestamp');
    given(builtContainer)
      .when({ type: 'FireTick', data: { nominal_at: T1, job_id: '' } })
      .thenThrows(ValidationError, 'invalid_id');
  });
});

describe('SkipTick', () => {
  it('records the skip once', () => {
    const skipped: WorkflowEvent = { type: 'TickSkipped', data: { nominal_at: T1, reason: 'missed' } };
    given(builtContainer)
      .when({ type: 'SkipTick', data: { nominal_at: T1, reason: 'missed' } })
      .then([skipped]);
    given([...builtContainer, skipped])
      .when({ type: 'SkipTick', data: { nominal_at: T1, reason: 'missed' } })
      .then([]);
  });

  it('records a tick given up while paused, and refuses to once the workflow is resumed', () => {
    given([...builtContainer, paused])
      .when({ type: 'SkipTick', data: { nominal_at: T1, reason: 'paused' } })
      .then([{ type: 'TickSkipped', data: { nominal_at: T1, reason: 'paused' } }]);
    // The scheduler saw it paused, but it has been resumed: the tick must be planned again, not lost.
    given([...builtContainer, paused, resumed])
      .when({ type: 'SkipTick', data: { nominal_at: T1, reason: 'paused' } })
      .thenThrows(ConflictError, 'workflow_not_paused');
    // Already decided: a repeat is a no-op whatever the status now.
    given([
      ...builtContainer,
      paused,
      { type: 'TickSkipped', data: { nominal_at: T1, reason: 'paused' } },
      resumed,
    ])
      .when({ type: 'SkipTick', data: { nominal_at: T1, reason: 'paused' } })
      .then([]);
  });
});

describe('RunNow', () => {
  it('schedules a MANUAL job at now, even while paused', () => {
    const expected = [ranNow('m1', now.toISOString())];
    given(builtContainer)
      .when({ type: 'RunNow', data: { job_id: 'm1' } })
      .then(expected);
    given([...builtContainer, paused])
      .when({ type: 'RunNow', data: { job_id: 'm1' } })
      .then(expected);
  });

  it('is a no-op when retried with the same job id', () => {
    given([...builtContainer, ranNow('m1', T1)])
      .when({ type: 'RunNow', data: { job_id: 'm1' } })
      .then([]);
    given([...builtContainer, ranNow('m1', T1), outcomeRecorded('m1', 'COMPLETED', 0)])
      .when({ type: 'RunNow', data: { job_id: 'm1' } })
      .then([]);
  });

  it('refuses to run a terminated or unbuilt workflow', () => {
    given([...builtContainer, terminatedByUser])
      .when({ type: 'RunNow', data: { job_id: 'm1' } })
      .thenThrows(ConflictError, 'workflow_terminated');
    given([containerCreated, buildQueued])
      .when({ type: 'RunNow', data: { job_id: 'm1' } })
      .thenThrows(ConflictError, 'workflow_not_built');
  });
});

describe('RecordJobOutcomes', () => {
  const threeFired = [
    ...builtContainer,
    fired('j1', T1),
    fired('j2', T2),
    fired('j3', '2026-03-01T12:15:00.000Z'),
  ];
  const outcomes = (...list: [string, 'COMPLETED' | 'FAILED' | 'CANCELED'][]) => ({
    type: 'RecordJobOutcomes' as const,
    data: { outcomes: list.map(([job_id, outcome]) => ({ job_id, outcome })) },
  });

  it('records each in order, the failure count running on from one to the next', () => {
    given(threeFired)
      .when(outcomes(['j1', 'FAILED'], ['j2', 'CANCELED'], ['j3', 'FAILED']))
      .then([
        outcomeRecorded('j1', 'FAILED', 1),
        outcomeRecorded('j2', 'CANCELED', 1),
        outcomeRecorded('j3', 'FAILED', 2),
      ]);
  });

  it('terminates once, where the limit is reached, and still records the rest', () => {
    const fourFired = [...threeFired, fired('j4', '2026-03-01T12:20:00.000Z')];
    given([...fourFired, outcomeRecorded('j1', 'FAILED', 1), outcomeRecorded('j2', 'FAILED', 2)])
      .when(outcomes(['j3', 'FAILED'], ['j4', 'FAILED']))
      .then([
        outcomeRecorded('j3', 'FAILED', 3),
        { type: 'WorkflowTerminated', data: { reason: 'consecutive_failures' } },
        outcomeRecorded('j4', 'FAILED', 4),
      ]);
  });

  it('skips outcomes already recorded, listed twice, or not ours', () => {
    given([...threeFired, outcomeRecorded('j1', 'FAILED', 1)])
      .when(outcomes(['j1', 'FAILED'], ['j2', 'COMPLETED'], ['j2', 'COMPLETED'], ['nope', 'FAILED']))
      .then([outcomeRecorded('j2', 'COMPLETED', 0)]);
  });
});

describe('RecordJobOutcome', () => {
  const threeFired = [
    ...builtContainer,
    fired('j1', T1),
    fired('j2', T2),
    fired('j3', '2026-03-01T12:15:00.000Z'),
  ];

  it('counts a failure', () => {
    given(threeFired)
      .when({ type: 'RecordJobOutcome', data: { job_id: 'j1', outcome: 'FAILED' } })
      .then([outcomeRecorded('j1', 'FAILED', 1)]);
  });

  it('resets the count on a success', () => {
    given([...threeFired, outcomeRecorded('j1', 'FAILED', 1), outcomeRecorded('j2', 'FAILED', 2)])
      .when({ type: 'RecordJobOutcome', data: { job_id: 'j3', outcome: 'COMPLETED' } })
      .then([outcomeRecorded('j3', 'COMPLETED', 0)]);
  });

  it('leaves the count alone for a canceled job', () => {
    given([...threeFired, outcomeRecorded('j1', 'FAILED', 1)])
      .when({ type: 'RecordJobOutcome', data: { job_id: 'j2', outcome: 'CANCELED' } })
      .then([outcomeRecorded('j2', 'CANCELED', 1)]);
  });

  it('terminates the workflow when failures reach the limit', () => {
    given([...threeFired, outcomeRecorded('j1', 'FAILED', 1), outcomeRecorded('j2', 'FAILED', 2)])
      .when({ type: 'RecordJobOutcome', data: { job_id: 'j3', outcome: 'FAILED' } })
      .then([
        outcomeRecorded('j3', 'FAILED', 3),
        { type: 'WorkflowTerminated', data: { reason: 'consecutive_failures' } },
      ]);
  });

  it('terminates a paused workflow too, but not one already terminated', () => {
    const twoFailed = [...threeFired, outcomeRecorded('j1', 'FAILED', 1), outcomeRecorded('j2', 'FAILED', 2)];
    given([...twoFailed, paused])
      .when({ type: 'RecordJobOutcome', data: { job_id: 'j3', outcome: 'FAILED' } })
      .then([
        outcomeRecorded('j3', 'FAILED', 3),
        { type: 'WorkflowTerminated', data: { reason: 'consecutive_failures' } },
      ]);
    given([...twoFailed, terminatedByUser])
      .when({ type: 'RecordJobOutcome', data: { job_id: 'j3', outcome: 'FAILED' } })
      .then([outcomeRecorded('j3', 'FAILED', 3)]);
  });

  it('a success in between starts the count again', () => {
    const history = [
      ...threeFired,
      outcomeRecorded('j1', 'FAILED', 1),
      outcomeRecorded('j2', 'COMPLETED', 0),
    ];
    given(history)
      .when({ type: 'RecordJobOutcome', data: { job_id: 'j3', outcome: 'FAILED' } })
      .then([outcomeRecorded('j3', 'FAILED', 1)]);
  });

  it('is a no-op for an outcome already recorded, or a job that is not ours', () => {
    given([...threeFired, outcomeRecorded('j1', 'FAILED', 1)])
      .when({ type: 'RecordJobOutcome', data: { job_id: 'j1', outcome: 'FAILED' } })
      .then([]);
    given(threeFired)
      .when({ type: 'RecordJobOutcome', data: { job_id: 'other', outcome: 'FAILED' } })
      .then([]);
  });
});

describe('a whole life', () => {
  it('folds create → build → fire → fail to the limit → delete', () => {
    const history: WorkflowEvent[] = [];
    const run = (command: Parameters<typeof workflowDecider.decide>[0]) => {
      const state = history.length === 0 ? undefined : evolveAll(workflowMachine, history);
      history.push(...workflowDecider.decide(command, state, { now }));
    };
    run({ type: 'CreateWorkflow', data: containerCreated.data });
    run({ type: 'StartWorkflowBuild', data: {} });
    run({ type: 'CompleteWorkflowBuild', data: {} });
    for (const [i, at] of [T1, T2, '2026-03-01T12:15:00.000Z'].entries()) {
      run({ type: 'FireTick', data: { nominal_at: at, job_id: `j${i}` } });
      run({ type: 'RecordJobOutcome', data: { job_id: `j${i}`, outcome: 'FAILED' } });
    }
    run({ type: 'DeleteWorkflow', data: {} });
    expect(workflowStatus(evolveAll(workflowMachine, history)).lifecycle).toBe('deleted');
    expect(history.map((e) => e.type)).toContain('WorkflowTerminated');
  });
});

describe('ticks decided ahead', () => {
  // `now` is 12:00; T1 (12:05) and T2 (12:10) are ahead of it.
  const aheadFire = (nominal_at: string, job_id: string, extra: object = {}) =>
    ({ type: 'FireTick', data: { nominal_at, job_id, overlap: 'skip', ahead: true, ...extra } }) as const;
  const firedAhead = (job_id: string, scheduled_at: string): WorkflowEvent => ({
    type: 'JobScheduled',
    data: { job_id, scheduled_at, trigger: 'AUTOMATIC', ahead: true },
  });
  const PAST = '2026-03-01T11:55:00.000Z';

  it('fires ahead when nothing before the nominal time can change the answer', () => {
    given(builtContainer)
      .when(aheadFire(T1, 'j1'))
      .then([firedAhead('j1', T1)]);
  });

  it('leaves the tick undecided while an earlier job is active, even one that has not started', () => {
    given([...builtContainer, firedAhead('j1', T1)])
      .when(aheadFire(T2, 'j2'))
      .then([]);
    // When due, the overlap policy answers as it finds the workflow then.
    specFor(workflowDecider, { now: new Date(T2) })([...builtContainer, firedAhead('j1', T1)])
      .when({ type: 'FireTick', data: { nominal_at: T2, job_id: 'j2', overlap: 'skip' } })
      .then([{ type: 'TickSkipped', data: { nominal_at: T2, reason: 'overlap' } }]);
  });

  it('fires ahead beside an active job under overlap allow', () => {
    given([...builtContainer, fired('j0', PAST)])
      .when(aheadFire(T1, 'j1', { overlap: 'allow' }))
      .then([firedAhead('j1', T1)]);
  });

  it('leaves a paused or unbuilt workflow’s tick undecided until it is due', () => {
    given([...builtContainer, paused])
      .when(aheadFire(T1, 'j1'))
      .then([]);
    given([...builtContainer, buildQueued])
      .when(aheadFire(T1, 'j1'))
      .then([]);
  });

  it('a pause withdraws the ticks not yet due and moves the ledger back to before them', () => {
    const history = [...builtContainer, fired('j0', PAST), firedAhead('j1', T1), firedAhead('j2', T2)];
    given(history)
      .when({ type: 'PauseWorkflow', data: {} })
      .then([
        paused,
        {
          type: 'TicksWithdrawn',
          data: {
            reason: 'paused',
            ticks: [
              { nominal_at: T1, job_id: 'j1' },
              { nominal_at: T2, job_id: 'j2' },
            ],
            last_tick_at: PAST,
            last_fired_at: PAST,
          },
        },
      ]);
  });

  it('a pause leaves a tick decided ahead that is already due (its job may be running)', () => {
    specFor(workflowDecider, { now: new Date(T1) })([...builtContainer, firedAhead('j1', T1)])
      .when({ type: 'PauseWorkflow', data: {} })
      .then([paused]);
  });

  it('a termination withdraws them for good', () => {
    given([...builtContainer, firedAhead('j1', T1)])
      .when({ type: 'TerminateWorkflow', data: {} })
      .then([
        terminatedByUser,
        {
          type: 'TicksWithdrawn',
          data: {
            reason: 'terminated',
            ticks: [{ nominal_at: T1, job_id: 'j1' }],
            last_tick_at: null,
            last_fired_at: null,
          },
        },
      ]);
  });

  describe('after a withdrawal', () => {
    const withdrawn = (): WorkflowEvent[] => {
      const history = [...builtContainer, fired('j0', PAST), firedAhead('j1', T1)];
      const pause = workflowDecider.decide(
        { type: 'PauseWorkflow', data: {} },
        evolveAll(workflowMachine, history),
        {
          now,
        },
      );
      return [...history, ...pause, resumed];
    };

    it('the ledger is back before the withdrawn tick and its job is no longer active', () => {
      const state = evolveAll(workflowMachine, withdrawn());
      expect(state.context.last_tick_at).toBe(PAST);
      expect(state.context.active_job_ids).toEqual(['j0']);
    });

    it('the withdrawn tick is decided again only when due, with a job of its own', () => {
      given(withdrawn())
        .when(aheadFire(T1, 'j1', { overlap: 'allow', after: PAST }))
        .then([]);
      const events = specFor(workflowDecider, { now: new Date(T1) })(withdrawn())
        .when({ type: 'FireTick', data: { nominal_at: T1, job_id: 'j1', overlap: 'allow', after: PAST } })
        .then([
          {
            type: 'JobScheduled',
            data: { job_id: nameBasedUuid('j1\nafter withdrawal'), scheduled_at: T1, trigger: 'AUTOMATIC' },
          },
        ]);
      expect(evolveAll(workflowMachine, [...withdrawn(), ...events]).context.withdrawn_ticks).toEqual([]);
    });

    it('a scheduler that has not seen the withdrawal is told where the ledger is', () => {
      specFor(workflowDecider, { now: new Date(T2) })(withdrawn())
        .when({ type: 'FireTick', data: { nominal_at: T2, job_id: 'j2', after: T1 } })
        .thenThrows(ConflictError, 'tick_out_of_order');
      specFor(workflowDecider, { now: new Date(T2) })(withdrawn())
        .when({ type: 'SkipTick', data: { nominal_at: T2, reason: 'missed', after: T1 } })
        .thenThrows(ConflictError, 'tick_out_of_order');
    });
  });
});

describe('overlap queue_one', () => {
  it('fires beside one active job, the new job waiting for it; a second waiting tick is skipped', () => {
    const queueOne = (nominal_at: string, job_id: string) =>
      ({ type: 'FireTick', data: { nominal_at, job_id, overlap: 'queue_one' } }) as const;
    const waiting: WorkflowEvent = {
      type: 'JobScheduled',
      data: { job_id: 'j2', scheduled_at: T2, trigger: 'AUTOMATIC', waits_for: ['j1'] },
    };
    given([...builtContainer, fired('j1', T1)])
      .when(queueOne(T2, 'j2'))
      .then([waiting]);
    given([...builtContainer, fired('j1', T1), waiting])
      .when(queueOne('2026-03-01T12:15:00.000Z', 'j3'))
      .then([{ type: 'TickSkipped', data: { nominal_at: '2026-03-01T12:15:00.000Z', reason: 'overlap' } }]);
  });

  it('releases the waiting job when the one it waited for ends, once', () => {
    const history: WorkflowEvent[] = [
      ...builtContainer,
      fired('j1', T1),
      {
        type: 'JobScheduled',
        data: { job_id: 'j2', scheduled_at: T2, trigger: 'AUTOMATIC', waits_for: ['j1'] },
      },
    ];
    const events = given(history)
      .when({ type: 'RecordJobOutcome', data: { job_id: 'j1', outcome: 'FAILED' } })
      .then([outcomeRecorded('j1', 'FAILED', 1), { type: 'JobReleased', data: { job_id: 'j2' } }]);
    const after = evolveAll(workflowMachine, [...history, ...events]);
    expect(after.context.held_jobs).toEqual([]);
    expect(after.context.active_job_ids).toEqual(['j2']);
  });

  it('forgets a waiting job that is canceled before its turn', () => {
    const history: WorkflowEvent[] = [
      ...builtContainer,
      fired('j1', T1),
      {
        type: 'JobScheduled',
        data: { job_id: 'j2', scheduled_at: T2, trigger: 'AUTOMATIC', waits_for: ['j1'] },
      },
      outcomeRecorded('j2', 'CANCELED', 0),
    ];
    given(history)
      .when({ type: 'RecordJobOutcome', data: { job_id: 'j1', outcome: 'COMPLETED' } })
      .then([outcomeRecorded('j1', 'COMPLETED', 0)]);
  });
});

describe('run limits (schedule.max_runs)', () => {
  const T3 = '2026-03-01T12:15:00.000Z';
  const limited = (max_runs: number): WorkflowEvent[] => [
    {
      ...containerCreated,
      data: { ...containerCreated.data, schedule: { type: 'interval', minutes: 5, max_runs } },
    },
    buildQueued,
    buildStarted,
    buildCompleted,
  ];
  const runLimit: WorkflowEvent = { type: 'WorkflowTerminated', data: { reason: 'run_limit' } };

  it('fires below the limit as usual', () => {
    given(limited(3))
      .when({ type: 'FireTick', data: { nominal_at: T1, job_id: 'j1' } })
      .then([fired('j1', T1)]);
  });

  it('ends the workflow in the commit of the fire that reaches the limit; that job still runs', () => {
    given([...limited(2), fired('j1', T1)])
      .when({ type: 'FireTick', data: { nominal_at: T2, job_id: 'j2' } })
      .then([fired('j2', T2), runLimit]);
    const state = evolveAll(workflowMachine, [...limited(2), fired('j1', T1), fired('j2', T2), runLimit]);
    expect(workflowStatus(state).lifecycle).toBe('terminated');
    expect(state.context.active_job_ids).toEqual(['j1', 'j2']);
    expect(state.context.terminated_reason).toBe('run_limit');
  });

  it('skips every tick after the limit with reason terminated', () => {
    given([...limited(1), fired('j1', T1), runLimit])
      .when({ type: 'FireTick', data: { nominal_at: T2, job_id: 'j2' } })
      .then([{ type: 'TickSkipped', data: { nominal_at: T2, reason: 'terminated' } }]);
  });

  it('counts a tick fired ahead like one fired when due', () => {
    given([...limited(1)])
      .when({ type: 'FireTick', data: { nominal_at: T3, job_id: 'j3', ahead: true } })
      .then([
        { type: 'JobScheduled', data: { job_id: 'j3', scheduled_at: T3, trigger: 'AUTOMATIC', ahead: true } },
        runLimit,
      ]);
  });

  it('does not count run-nows', () => {
    given([...limited(1), ranNow('m1', T1), ranNow('m2', T1)])
      .when({ type: 'FireTick', data: { nominal_at: T2, job_id: 'j2' } })
      .then([fired('j2', T2), runLimit]);
  });

  it('ends the workflow when an update lowers the limit to what has already fired', () => {
    const schedule = { type: 'interval', minutes: 5, max_runs: 2 } as const;
    given([...limited(5), fired('j1', T1), fired('j2', T2)])
      .when({ type: 'UpdateWorkflow', data: { schedule } })
      .then([{ type: 'WorkflowUpdated', data: { changes: { schedule }, rebuild: false } }, runLimit]);
    given([...limited(5), fired('j1', T1)])
      .when({ type: 'UpdateWorkflow', data: { schedule } })
      .then([{ type: 'WorkflowUpdated', data: { changes: { schedule }, rebuild: false } }]);
  });

  it.each([0, -1, 1.5, '3', 1_000_001])('refuses max_runs %s', (max_runs) => {
    given([])
      .when({
        type: 'CreateWorkflow',
        data: { ...containerCreated.data, schedule: { type: 'interval', minutes: 5, max_runs } as never },
      })
      .thenThrows(ValidationError, 'invalid_schedule');
  });
});

describe('jitter (schedule.jitter_seconds)', () => {
  const jittered: WorkflowEvent[] = [
    {
      ...containerCreated,
      data: { ...containerCreated.data, schedule: { type: 'interval', minutes: 5, jitter_seconds: 120 } },
    },
    buildQueued,
    buildStarted,
    buildCompleted,
  ];
  const fireAt = (nominal: string) => jitteredTime(containerCreated.data.workflow_id, nominal, 120);

  it('fires a tick with its nominal time and, beside it, when its job starts', () => {
    expect(Date.parse(fireAt(T1)) - Date.parse(T1)).toBeGreaterThanOrEqual(0);
    given(jittered)
      .when({ type: 'FireTick', data: { nominal_at: T1, job_id: 'j1' } })
      .then([
        {
          type: 'JobScheduled',
          data: { job_id: 'j1', scheduled_at: T1, fire_at: fireAt(T1), trigger: 'AUTOMATIC' },
        },
      ]);
  });

  it('gives a run-now no jitter', () => {
    given(jittered)
      .when({ type: 'RunNow', data: { job_id: 'm1' } })
      .then([
        { type: 'JobScheduled', data: { job_id: 'm1', scheduled_at: now.toISOString(), trigger: 'MANUAL' } },
      ]);
  });

  it('withdraws on pause a tick decided ahead whose nominal time passed but whose jittered time has not', () => {
    // Nominal 11:59, now 12:00: due by its nominal time, not by its fire time (if that is later).
    const nominal = '2026-03-01T11:59:59.000Z';
    const at = fireAt(nominal);
    const ahead: WorkflowEvent = {
      type: 'JobScheduled',
      data: { job_id: 'j1', scheduled_at: nominal, fire_at: at, trigger: 'AUTOMATIC', ahead: true },
    };
    const decided = workflowDecider.decide(
      { type: 'PauseWorkflow', data: {} },
      evolveAll(workflowMachine, [...jittered, ahead]),
      { now },
    );
    const withdrawn = decided.some((e) => e.type === 'TicksWithdrawn');
    expect(withdrawn).toBe(Date.parse(at) > now.getTime());
  });

  it('refuses jitter on a one-off and outside 1..604800 s', () => {
    for (const [schedule, field] of [
      [{ type: 'at', at: T1, jitter_seconds: 5 }, 'schedule.jitter_seconds'],
      [{ type: 'interval', minutes: 5, jitter_seconds: 0 }, 'schedule.jitter_seconds'],
      [{ type: 'interval', minutes: 5, jitter_seconds: 604_801 }, 'schedule.jitter_seconds'],
    ] as const) {
      expect(() =>
        workflowDecider.decide(
          { type: 'CreateWorkflow', data: { ...containerCreated.data, schedule: schedule as never } },
          evolveAll(workflowMachine, []),
          { now },
        ),
      ).toThrow(expect.objectContaining({ code: 'invalid_schedule', field }));
    }
  });
});

describe('Backfill', () => {
  const wf = containerCreated.data.workflow_id;
  const B1 = '2026-03-01T10:00:00.000Z';
  const B2 = '2026-03-01T10:05:00.000Z';
  const B3 = '2026-03-01T10:10:00.000Z';
  const range = (
    from: string,
    to: string,
    nominal_ats: string[],
    overlap: 'allow' | 'buffer' = 'buffer',
  ) => ({
    type: 'Backfill' as const,
    data: { backfill_id: `bf ${from} ${to}`, from, to, overlap, nominal_ats },
  });
  const requested = (from: string, to: string, jobs: number, covered: number, overlap = 'buffer') =>
    ({
      type: 'BackfillRequested',
      data: { backfill_id: `bf ${from} ${to}`, from, to, overlap, jobs, covered },
    }) as WorkflowEvent;
  const backfilled = (nominal: string, from: string, to: string, waits?: string): WorkflowEvent => ({
    type: 'JobScheduled',
    data: {
      job_id: backfillJobId(wf, nominal),
      scheduled_at: nominal,
      trigger: 'BACKFILL',
      backfill_id: `bf ${from} ${to}`,
      ...(waits ? { waits_for: [backfillJobId(wf, waits)] } : {}),
    },
  });
  const to = '2026-03-01T10:15:00.000Z';

  it('fires every tick of the range as a BACKFILL job, each waiting for the one before under buffer', () => {
    given(builtContainer)
      .when(range(B1, to, [B1, B2, B3]))
      .then([
        requested(B1, to, 3, 0),
        backfilled(B1, B1, to),
        backfilled(B2, B1, to, B1),
        backfilled(B3, B1, to, B2),
      ]);
  });

  it('fires them all at once under allow', () => {
    given(builtContainer)
      .when(range(B1, to, [B1, B2], 'allow'))
      .then([requested(B1, to, 2, 0, 'allow'), backfilled(B1, B1, to), backfilled(B2, B1, to)]);
  });

  it('fires nothing when the same range is asked again, and only the new ticks of an overlapping one', () => {
    const first = [requested(B1, B3, 2, 0), backfilled(B1, B1, B3), backfilled(B2, B1, B3, B1)];
    given([...builtContainer, ...first])
      .when(range(B1, B3, [B1, B2]))
      .then([]);
    given([...builtContainer, ...first])
      .when(range(B2, to, [B2, B3]))
      .then([requested(B2, to, 1, 1), backfilled(B3, B2, to)]);
  });

  it('backfills a paused workflow, and holds its buffered jobs like any waiting job', () => {
    const state = evolveAll(workflowMachine, [
      ...builtContainer,
      paused,
      requested(B1, to, 2, 0),
      backfilled(B1, B1, to),
      backfilled(B2, B1, to, B1),
    ]);
    expect(state.context.active_job_ids).toEqual([backfillJobId(wf, B1), backfillJobId(wf, B2)]);
    expect(state.context.held_jobs).toEqual([
      { job_id: backfillJobId(wf, B2), waits_for: [backfillJobId(wf, B1)] },
    ]);
    // Neither the ledger's position nor the run count moves: these are not the schedule's fires.
    expect([state.context.last_tick_at, state.context.runs_fired]).toEqual([null, 0]);
  });

  it('refuses a terminated workflow (409) and a range reaching past now (422)', () => {
    given([...builtContainer, terminatedByUser])
      .when(range(B1, to, [B1]))
      .thenThrows(ConflictError, 'workflow_terminated');
    given(builtContainer)
      .when(range(B1, '2026-03-01T12:00:00.001Z', [B1]))
      .thenThrows(ValidationError, 'backfill_in_future');
  });
});

describe('ChainRun', () => {
  const caused_by = { workflow_id: 'parent', job_id: 'pj1', depth: 1 };
  const run = { type: 'ChainRun' as const, data: { job_id: 'c1', caused_by } };

  it('runs the workflow now as a CHAIN job naming its cause', () => {
    given(builtContainer)
      .when(run)
      .then([
        {
          type: 'JobScheduled',
          data: { job_id: 'c1', scheduled_at: now.toISOString(), trigger: 'CHAIN', caused_by },
        },
      ]);
  });

  it('starts nothing twice when the same end is delivered again', () => {
    given([
      ...builtContainer,
      { type: 'JobScheduled', data: { job_id: 'c1', scheduled_at: T1, trigger: 'CHAIN', caused_by } },
    ])
      .when(run)
      .then([]);
  });

  it.each([
    ['paused', [...builtContainer, paused]],
    ['terminated', [...builtContainer, terminatedByUser]],
    ['not_built', [containerCreated, buildQueued]],
  ] as [string, WorkflowEvent[]][])(
    'records a skip, not an error, when the target is %s',
    (reason, history) => {
      given(history)
        .when(run)
        .then([
          { type: 'ChainSkipped', data: { caused_by, target: containerCreated.data.workflow_id, reason } },
        ] as never);
    },
  );

  it('records a skip past the depth cap', () => {
    const deep = { ...caused_by, depth: CHAIN_MAX_DEPTH + 1 };
    given(builtContainer)
      .when({ type: 'ChainRun', data: { job_id: 'c1', caused_by: deep } })
      .then([
        {
          type: 'ChainSkipped',
          data: { caused_by: deep, target: containerCreated.data.workflow_id, reason: 'depth_exceeded' },
        },
      ]);
  });

  it('refuses a chain that is not lists of distinct ids', () => {
    given([])
      .when({ type: 'CreateWorkflow', data: { ...containerCreated.data, chain: { on_success: ['a', 'a'] } } })
      .thenThrows(ValidationError, 'invalid_chain');
    given([])
      .when({
        type: 'CreateWorkflow',
        data: { ...containerCreated.data, chain: { on_retry: ['a'] } as never },
      })
      .thenThrows(ValidationError, 'invalid_chain');
  });
});

describe('jobEndsMayWaitForRecord', () => {
  const withSchedule = (changes: Record<string, unknown>, chain?: object): WorkflowEvent => ({
    ...containerCreated,
    data: {
      ...containerCreated.data,
      schedule: { ...containerCreated.data.schedule, ...changes },
      ...(chain ? { chain } : {}),
    } as typeof containerCreated.data,
  });
  const built = (created: WorkflowEvent = containerCreated) => [created, ...builtContainer.slice(1)];
  const mayWait = (history: readonly WorkflowEvent[], outcomes = ['COMPLETED'] as const) =>
    jobEndsMayWaitForRecord(evolveAll(workflowMachine, history), outcomes);

  it('lets completed ends of a plain workflow wait, active or paused', () => {
    expect(mayWait([...built(), fired('j1', T1)])).toBe(true);
    expect(mayWait([...built(withSchedule({ overlap: 'allow' })), fired('j1', T1)])).toBe(true);
    expect(mayWait([...built(), fired('j1', T1), paused])).toBe(true);
  });

  it('records a failure or a cancel at once: they are counted or chained', () => {
    const history = [...built(), fired('j1', T1), fired('j2', T2)];
    expect(jobEndsMayWaitForRecord(evolveAll(workflowMachine, history), ['COMPLETED', 'FAILED'])).toBe(false);
    expect(jobEndsMayWaitForRecord(evolveAll(workflowMachine, history), ['CANCELED'])).toBe(false);
  });

  it.each(['skip', 'queue_one', 'cancel_running'])('records at once under overlap %s', (overlap) => {
    expect(mayWait([...built(withSchedule({ overlap })), fired('j1', T1)])).toBe(false);
  });

  it('records at once when a job waits for the ended one, a chain starts on it or a count is reset', () => {
    const held: WorkflowEvent = {
      type: 'JobScheduled',
      data: { job_id: 'j2', scheduled_at: T2, trigger: 'BACKFILL', waits_for: ['j1'] },
    };
    expect(mayWait([...built(), fired('j1', T1), held])).toBe(false);
    expect(mayWait([...built(withSchedule({}, { on_success: ['wf2'] })), fired('j1', T1)])).toBe(false);
    expect(mayWait([...built(withSchedule({}, { on_end: ['wf2'] })), fired('j1', T1)])).toBe(false);
    expect(mayWait([...built(withSchedule({}, { on_failure: ['wf2'] })), fired('j1', T1)])).toBe(true);
    const failedOnce = [...built(), fired('j0', T1), outcomeRecorded('j0', 'FAILED', 1), fired('j1', T2)];
    expect(mayWait(failedOnce)).toBe(false);
  });

  it('records at once on a terminated workflow: its deletion waits for its active jobs', () => {
    expect(mayWait([...built(), fired('j1', T1), terminatedByUser])).toBe(false);
  });
});
