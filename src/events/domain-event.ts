// Every domain event of Chronoverse, and which aggregate each belongs to.
import type { JobEvent } from './job-events.ts';
import type { UserEvent } from './user-events.ts';
import type { WorkflowEvent } from './workflow-events.ts';

export type AggregateKind = 'user' | 'workflow' | 'job';

export type DomainEvent = UserEvent | WorkflowEvent | JobEvent;
export type DomainEventType = DomainEvent['type'];

/** The event union of one aggregate kind. */
export type EventOf<K extends AggregateKind> = { user: UserEvent; workflow: WorkflowEvent; job: JobEvent }[K];
