// The JetStream streams and KV buckets Chronoverse declares. Reconciled at start by
// src/migrate/jetstream-topology.ts: created when missing, updated when they differ, never deleted.
import { DiscardPolicy, RetentionPolicy, StorageType, type StreamConfig } from '@nats-io/jetstream';

const NANOS_PER_MS = 1_000_000;
export const msToNanos = (ms: number): number => ms * NANOS_PER_MS;

export const streamNames = {
  events: 'CV_EVENTS',
  dispatch: 'CV_DISPATCH',
  logs: 'CV_LOGS',
  dispatchAdvisories: 'CV_DISPATCH_ADVISORIES',
} as const;

export interface TopologyOptions {
  /** How long the live log buffer keeps lines (the log processor copies them to ClickHouse). */
  logBufferMaxAgeHours: number;
  /** Copies of each stream on the cluster's servers (`natsReplicas` in src/infra/nats-connection.ts). */
  replicas?: number;
}

export type StreamDefinition = Pick<
  StreamConfig,
  | 'name'
  | 'subjects'
  | 'retention'
  | 'storage'
  | 'discard'
  | 'max_age'
  | 'duplicate_window'
  | 'allow_direct'
  | 'deny_delete'
  | 'max_msgs_per_subject'
  | 'num_replicas'
> & { description: string };

export function streamDefinitions(options: TopologyOptions): StreamDefinition[] {
  const num_replicas = options.replicas ?? 1;
  const streams: Omit<StreamDefinition, 'num_replicas'>[] = [
    {
      name: streamNames.events,
      description: 'Every domain event of every user, workflow and job: the source of truth',
      subjects: ['cv.evt.>'],
      retention: RetentionPolicy.Limits,
      storage: StorageType.File,
      discard: DiscardPolicy.Old,
      max_age: 0,
      max_msgs_per_subject: -1,
      duplicate_window: msToNanos(2 * 60_000),
      allow_direct: true,
      deny_delete: true,
    },
    {
      name: streamNames.dispatch,
      description: 'One message per job attempt, pulled by executor nodes',
      subjects: ['cv.dispatch.>'],
      retention: RetentionPolicy.Workqueue,
      storage: StorageType.File,
      discard: DiscardPolicy.Old,
      max_age: 0,
      max_msgs_per_subject: -1,
      duplicate_window: msToNanos(10 * 60_000),
      allow_direct: false,
      deny_delete: false,
    },
    {
      // The server announces a dispatch message that ran out of deliveries once, on a plain subject;
      // kept in a stream, the announcement waits until an executor has ended the job it names, even
      // when no executor listens at that instant or the one that does dies halfway.
      name: streamNames.dispatchAdvisories,
      description: 'Max-deliveries advisories of the dispatch consumers, until an executor ends their jobs',
      subjects: [`$JS.EVENT.ADVISORY.CONSUMER.MAX_DELIVERIES.${streamNames.dispatch}.>`],
      retention: RetentionPolicy.Workqueue,
      storage: StorageType.File,
      discard: DiscardPolicy.Old,
      max_age: msToNanos(7 * 24 * 3_600_000),
      max_msgs_per_subject: -1,
      duplicate_window: msToNanos(2 * 60_000),
      allow_direct: false,
      deny_delete: false,
    },
    {
      name: streamNames.logs,
      description: 'Live buffer of job log lines, copied to ClickHouse by the log processor',
      subjects: ['cv.logs.>'],
      retention: RetentionPolicy.Limits,
      storage: StorageType.File,
      discard: DiscardPolicy.Old,
      max_age: msToNanos(options.logBufferMaxAgeHours * 3_600_000),
      max_msgs_per_subject: -1,
      duplicate_window: msToNanos(2 * 60_000),
      allow_direct: true,
      deny_delete: false,
    },
  ];
  return streams.map((s) => ({ ...s, num_replicas }));
}
