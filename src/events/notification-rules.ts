// Which state changes become notifications, of which kind, and who sees them. Kinds as in the
// original: WEB_ALERT, WEB_ERROR, WEB_WARN, WEB_SUCCESS, WEB_INFO. Preference ALERTS (the default)
// shows alerts and errors only; ALL shows everything; NONE nothing.

import type { NotificationKind, NotificationRow, UserTable } from '../infra/database.ts';
import type { EventEnvelope } from './envelope.ts';

type Preference = UserTable['notification_preference'];

export function shownTo(preference: Preference, kind: NotificationKind): boolean {
  if (preference === 'ALL') return true;
  if (preference === 'NONE') return false;
  return kind === 'WEB_ALERT' || kind === 'WEB_ERROR';
}

interface Draft {
  kind: NotificationKind;
  title: string;
  message: string;
}

/** The notification an event warrants, before the user's preference is applied. */
export function notificationDraft(
  event: EventEnvelope,
  names: { workflowName: string; workflowKind?: string },
): Draft | undefined {
  const wf = `"${names.workflowName}"`;
  switch (event.type) {
    case 'WorkflowBuildCompleted':
      // A HEARTBEAT's build completes at creation: nothing happened worth telling.
      return names.workflowKind === 'HEARTBEAT'
        ? undefined
        : { kind: 'WEB_SUCCESS', title: 'Workflow built', message: `Workflow ${wf} is built and scheduled.` };
    case 'WorkflowBuildFailed':
      return {
        kind: 'WEB_ERROR',
        title: 'Build failed',
        message: `Workflow ${wf} could not be built: ${event.data.reason}`,
      };
    case 'WorkflowTerminated':
      return event.data.reason === 'consecutive_failures'
        ? {
            kind: 'WEB_ALERT',
            title: 'Workflow terminated',
            message: `Workflow ${wf} was terminated after too many consecutive job failures.`,
          }
        : event.data.reason === 'run_limit'
          ? {
              kind: 'WEB_INFO',
              title: 'Workflow finished its runs',
              message: `Workflow ${wf} fired the last of its scheduled runs (max_runs) and was terminated; that job still runs.`,
            }
          : { kind: 'WEB_INFO', title: 'Workflow terminated', message: `Workflow ${wf} was terminated.` };
    case 'WorkflowPaused':
      return { kind: 'WEB_INFO', title: 'Workflow paused', message: `Workflow ${wf} was paused.` };
    case 'WorkflowResumed':
      return { kind: 'WEB_INFO', title: 'Workflow resumed', message: `Workflow ${wf} was resumed.` };
    case 'JobCompleted':
      return { kind: 'WEB_SUCCESS', title: 'Job completed', message: `A job of ${wf} completed.` };
    case 'JobFailed':
      return event.data.will_retry
        ? {
            kind: 'WEB_WARN',
            title: 'Job attempt failed',
            message: `Attempt ${event.data.attempt} of a job of ${wf} failed (${event.data.reason}); it will be retried.`,
          }
        : {
            kind: 'WEB_ERROR',
            title: 'Job failed',
            message: `A job of ${wf} failed (${event.data.reason}): ${event.data.error_message}`,
          };
    case 'JobCanceled':
      return { kind: 'WEB_WARN', title: 'Job canceled', message: `A job of ${wf} was canceled.` };
    default:
      return undefined;
  }
}

export function notificationFor(
  event: EventEnvelope,
  preference: Preference,
  workflow: { id: string; name: string; kind?: string },
): NotificationRow | undefined {
  const draft = notificationDraft(event, {
    workflowName: workflow.name,
    ...(workflow.kind ? { workflowKind: workflow.kind } : {}),
  });
  if (!draft || !shownTo(preference, draft.kind)) return undefined;
  const isJob = event.aggregate === 'job';
  return {
    id: event.id,
    user_id: event.userId,
    kind: draft.kind,
    title: draft.title,
    message: draft.message,
    entity_id: event.aggregateId,
    entity_type: isJob ? 'JOB' : 'WORKFLOW',
    action_url: isJob ? `/workflows/${workflow.id}/jobs/${event.aggregateId}` : `/workflows/${workflow.id}`,
    read_at: null,
    created_at: new Date(event.occurredAt),
  };
}
