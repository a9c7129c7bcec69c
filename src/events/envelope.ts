// The envelope every event travels in on NATS, how fresh events are wrapped, and how stored ones are
// read back: parsed minimally and upcast to the current version of their type.
import { ValidationError } from '../errors.ts';
import type { AggregateKind, DomainEvent, DomainEventType, EventOf } from './domain-event.ts';

export type { AggregateKind, DomainEvent, DomainEventType, EventOf } from './domain-event.ts';

type AnyEvent = { readonly type: string; readonly data: unknown };

export type EnvelopeHeader = {
  readonly id: string;
  readonly version: number;
  readonly aggregate: AggregateKind;
  readonly aggregateId: string;
  readonly userId: string;
  /** ISO 8601 instant the event was decided. */
  readonly occurredAt: string;
  readonly correlationId: string;
  readonly causationId: string;
  /** W3C trace context of the command that produced the event. */
  readonly traceparent?: string;
  readonly tracestate?: string;
  /** The API key the request that caused the event was made with (absent for a login or a reactor). */
  readonly apiKeyId?: string;
};

/**
 * An event with its metadata. Distributive over the event union, so that narrowing on `type`
 * narrows `data` too.
 */
export type EventEnvelope<E extends AnyEvent = DomainEvent> = E extends AnyEvent
  ? EnvelopeHeader & { readonly type: E['type']; readonly data: E['data'] }
  : never;

/** Current schema version per event type. Bump one and add an upcaster `${type}@${old}` for it. */
export const CURRENT_EVENT_VERSIONS: { readonly [T in DomainEventType]: number } = {
  UserRegistered: 1,
  UserPreferencesChanged: 1,
  NotificationsRead: 1,
  BackfillRequested: 1,
  ChainSkipped: 1,
  WorkflowCreated: 1,
  WorkflowUpdated: 1,
  WorkflowBuildQueued: 1,
  WorkflowBuildStarted: 1,
  WorkflowBuildCompleted: 1,
  WorkflowBuildFailed: 1,
  WorkflowBuildCanceled: 1,
  WorkflowPaused: 1,
  WorkflowResumed: 1,
  WorkflowTerminated: 1,
  WorkflowDeleted: 1,
  JobScheduled: 1,
  TickSkipped: 1,
  TicksWithdrawn: 1,
  JobReleased: 1,
  JobOutcomeRecorded: 1,
  JobCreated: 1,
  JobQueued: 1,
  JobStarted: 1,
  JobCompleted: 1,
  JobFailed: 1,
  JobRetryScheduled: 1,
  JobCanceled: 1,
};

/** Which aggregate's subject each event type lives on. */
export const EVENT_AGGREGATES: { readonly [T in DomainEventType]: AggregateKind } = {
  UserRegistered: 'user',
  UserPreferencesChanged: 'user',
  NotificationsRead: 'user',
  BackfillRequested: 'workflow',
  ChainSkipped: 'workflow',
  WorkflowCreated: 'workflow',
  WorkflowUpdated: 'workflow',
  WorkflowBuildQueued: 'workflow',
  WorkflowBuildStarted: 'workflow',
  WorkflowBuildCompleted: 'workflow',
  WorkflowBuildFailed: 'workflow',
  WorkflowBuildCanceled: 'workflow',
  WorkflowPaused: 'workflow',
  WorkflowResumed: 'workflow',
  WorkflowTerminated: 'workflow',
  WorkflowDeleted: 'workflow',
  JobScheduled: 'workflow',
  TickSkipped: 'workflow',
  TicksWithdrawn: 'workflow',
  JobReleased: 'workflow',
  JobOutcomeRecorded: 'workflow',
  JobCreated: 'job',
  JobQueued: 'job',
  JobStarted: 'job',
  JobCompleted: 'job',
  JobFailed: 'job',
  JobRetryScheduled: 'job',
  JobCanceled: 'job',
};

export type EventMetadata = {
  /** Makes one fresh event id per call (a UUID in production, a counter in tests). */
  readonly newId: () => string;
  readonly now: Date;
  readonly correlationId: string;
  readonly causationId: string;
  readonly traceparent?: string;
  readonly tracestate?: string;
  readonly apiKeyId?: string;
};

/** Wraps the events one command decided, in order, stamping the current version of each type. */
export function toEnvelopes<K extends AggregateKind>(
  aggregate: K,
  aggregateId: string,
  userId: string,
  events: readonly EventOf<K>[],
  meta: EventMetadata,
): EventEnvelope<EventOf<K>>[] {
  const occurredAt = meta.now.toISOString();
  return events.map((event) => {
    const envelope = {
      id: meta.newId(),
      type: event.type,
      version: CURRENT_EVENT_VERSIONS[event.type],
      aggregate,
      aggregateId,
      userId,
      occurredAt,
      correlationId: meta.correlationId,
      causationId: meta.causationId,
      ...(meta.traceparent === undefined ? {} : { traceparent: meta.traceparent }),
      ...(meta.tracestate === undefined ? {} : { tracestate: meta.tracestate }),
      ...(meta.apiKeyId === undefined ? {} : { apiKeyId: meta.apiKeyId }),
      data: event.data,
    };
    // TypeScript cannot follow a generic event through the distributive envelope type.
    return envelope as unknown as EventEnvelope<EventOf<K>>;
  });
}

/** An envelope as stored: the header is checked, `data` is whatever that version wrote. */
export type StoredEnvelope = EnvelopeHeader & { readonly type: string; readonly data: unknown };

/** Turns the data of `${type}@${version}` into the data of version + 1. */
export type Upcaster = (data: unknown, envelope: StoredEnvelope) => unknown;

/** Upcasters keyed by `${type}@${fromVersion}`. Empty while every type is at version 1. */
export const upcasters: Readonly<Record<string, Upcaster>> = {};

export type UpcastConfig = {
  readonly currentVersions: Readonly<Record<string, number>>;
  readonly upcasters: Readonly<Record<string, Upcaster>>;
};

/** Builds an `upcast` over a version table and upcasters (tests pass fake ones). */
export function createUpcast(config: UpcastConfig): (stored: unknown) => EventEnvelope {
  return (stored) => {
    let envelope = parseStoredEnvelope(stored, config.currentVersions);
    const current = config.currentVersions[envelope.type] ?? envelope.version;
    while (envelope.version < current) {
      const key = `${envelope.type}@${envelope.version}`;
      const step = config.upcasters[key];
      if (step === undefined) throw invalidEvent(`no upcaster for ${key}`);
      envelope = { ...envelope, version: envelope.version + 1, data: step(envelope.data, envelope) };
    }
    // The data of the current version is what this code wrote; trusting it here is the point of
    // versioning, so the cast is the one place where stored JSON becomes a typed event.
    return envelope as EventEnvelope;
  };
}

/** Parses a stored envelope and upgrades it to the current version of its type. */
export const upcast: (stored: unknown) => EventEnvelope = createUpcast({
  currentVersions: CURRENT_EVENT_VERSIONS,
  upcasters,
});

const AGGREGATE_KINDS: readonly string[] = ['user', 'workflow', 'job'] satisfies AggregateKind[];
const HEADER_STRINGS = ['id', 'type', 'aggregateId', 'userId', 'correlationId', 'causationId'] as const;

function parseStoredEnvelope(
  stored: unknown,
  currentVersions: UpcastConfig['currentVersions'],
): StoredEnvelope {
  if (!isPlainObject(stored)) throw invalidEvent('the envelope is not an object');
  for (const field of HEADER_STRINGS) {
    const value = stored[field];
    if (typeof value !== 'string' || value === '') throw invalidEvent(`${field} must be a non-empty string`);
  }
  const type = stored.type as string;
  const current = currentVersions[type];
  if (current === undefined) throw invalidEvent(`unknown event type ${type}`);
  const { version, aggregate, occurredAt, data, traceparent, tracestate, apiKeyId } = stored;
  if (typeof version !== 'number' || !Number.isInteger(version) || version < 1 || version > current) {
    throw invalidEvent(`${type} has unsupported version ${String(version)} (current ${current})`);
  }
  if (typeof aggregate !== 'string' || !AGGREGATE_KINDS.includes(aggregate)) {
    throw invalidEvent(`unknown aggregate ${String(aggregate)}`);
  }
  const expectedAggregate = (EVENT_AGGREGATES as Readonly<Record<string, AggregateKind>>)[type];
  if (expectedAggregate !== undefined && expectedAggregate !== aggregate) {
    throw invalidEvent(`${type} belongs to ${expectedAggregate}, not ${aggregate}`);
  }
  if (typeof occurredAt !== 'string' || Number.isNaN(Date.parse(occurredAt))) {
    throw invalidEvent('occurredAt must be an ISO timestamp');
  }
  if (!isPlainObject(data)) throw invalidEvent('data must be an object');
  if (traceparent !== undefined && typeof traceparent !== 'string') {
    throw invalidEvent('traceparent must be a string');
  }
  if (tracestate !== undefined && typeof tracestate !== 'string') {
    throw invalidEvent('tracestate must be a string');
  }
  if (apiKeyId !== undefined && typeof apiKeyId !== 'string') {
    throw invalidEvent('apiKeyId must be a string');
  }
  return stored as StoredEnvelope;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function invalidEvent(message: string): ValidationError {
  return new ValidationError('invalid_event', `Stored event is unusable: ${message}`);
}
