// The event types a webhook may subscribe to: every workflow and job event, the `type`s of the user's
// live stream (GET /events, event `state`). User events (registration, preferences, notifications
// read) are not state changes of anything a receiver automates, and the stream does not send them.
import type { JobEvent } from './job-events.ts';
import type { WorkflowEvent } from './workflow-events.ts';

type WebhookEventType = WorkflowEvent['type'] | JobEvent['type'];

/** Listed once, in the order of docs/events.md; the record makes a new event type a compile error here. */
const listed: Record<WebhookEventType, true> = {
  WorkflowCreated: true,
  WorkflowUpdated: true,
  WorkflowBuildQueued: true,
  WorkflowBuildStarted: true,
  WorkflowBuildCompleted: true,
  WorkflowBuildFailed: true,
  WorkflowBuildCanceled: true,
  WorkflowPaused: true,
  WorkflowResumed: true,
  WorkflowTerminated: true,
  WorkflowDeleted: true,
  JobScheduled: true,
  ChainSkipped: true,
  BackfillRequested: true,
  JobReleased: true,
  TicksWithdrawn: true,
  TickSkipped: true,
  JobOutcomeRecorded: true,
  JobCreated: true,
  JobQueued: true,
  JobStarted: true,
  JobCompleted: true,
  JobFailed: true,
  JobRetryScheduled: true,
  JobCanceled: true,
};

export const WEBHOOK_EVENT_TYPES = Object.keys(listed) as [WebhookEventType, ...WebhookEventType[]];

export function isWebhookEventType(type: string): type is WebhookEventType {
  return Object.hasOwn(listed, type);
}
