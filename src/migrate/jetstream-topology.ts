// Reconciles the declared streams with the server: create what is missing, update what differs,
// never delete a stream or its data. A difference that cannot be updated in place (retention) stops
// the start with a message, rather than silently running on the wrong kind of stream. The replica
// count is never changed as a side effect: a stream created R1 stays R1 when CV_NATS_REPLICAS (or a
// move to a cluster) now says 3, until an operator scales it on purpose (`chronoverse migrate
// --scale-replicas`, the procedure in docs/deployment.md), because moving a stream's data onto new
// peers is an operation to watch, not to start from every role's boot.
import {
  JetStreamApiCodes,
  JetStreamApiError,
  type JetStreamManager,
  type StreamConfig,
} from '@nats-io/jetstream';
import type { StreamDefinition } from '../events/stream-definitions.ts';

export type ReconcileAction = {
  stream: string;
  action: 'created' | 'updated' | 'unchanged';
  changed?: string[];
  /** The stream's replica count differs from the declared one and was left as it is. */
  replicas?: { actual: number; declared: number };
};

export interface ReconcileOptions {
  /** Apply a declared replica count that differs from the stream's (an operator's explicit step). */
  scaleReplicas?: boolean;
}

const comparedKeys = [
  'subjects',
  'storage',
  'discard',
  'max_age',
  'duplicate_window',
  'allow_direct',
  'deny_delete',
  'max_msgs_per_subject',
  'description',
] as const satisfies readonly (keyof StreamDefinition)[];

export function differingKeys(wanted: StreamDefinition, actual: StreamConfig): string[] {
  return comparedKeys.filter((k) => JSON.stringify(wanted[k]) !== JSON.stringify(actual[k]));
}

export async function reconcileStreams(
  jsm: JetStreamManager,
  definitions: readonly StreamDefinition[],
  options: ReconcileOptions = {},
): Promise<ReconcileAction[]> {
  const actions: ReconcileAction[] = [];
  for (const wanted of definitions) {
    let actual: StreamConfig;
    try {
      actual = (await jsm.streams.info(wanted.name)).config;
    } catch (err) {
      if (!(err instanceof JetStreamApiError && err.code === JetStreamApiCodes.StreamNotFound)) throw err;
      await jsm.streams.add(wanted);
      actions.push({ stream: wanted.name, action: 'created' });
      continue;
    }
    if (actual.retention !== wanted.retention) {
      throw new Error(
        `stream ${wanted.name} has retention "${actual.retention}" but "${wanted.retention}" is declared; it cannot change in place — migrate its data by hand`,
      );
    }
    const changed = differingKeys(wanted, actual);
    const declaredReplicas = wanted.num_replicas ?? 1;
    const actualReplicas = actual.num_replicas || 1;
    const scale = declaredReplicas !== actualReplicas && options.scaleReplicas === true;
    if (scale) changed.push('num_replicas');
    const kept =
      declaredReplicas !== actualReplicas && !scale
        ? { replicas: { actual: actualReplicas, declared: declaredReplicas } }
        : {};
    if (changed.length === 0) {
      actions.push({ stream: wanted.name, action: 'unchanged', ...kept });
      continue;
    }
    await jsm.streams.update(wanted.name, {
      ...actual,
      ...wanted,
      num_replicas: scale ? declaredReplicas : actualReplicas,
    });
    actions.push({ stream: wanted.name, action: 'updated', changed, ...kept });
  }
  return actions;
}
