// Reconciles the declared streams with the server: create what is missing, update what differs,
// never delete a stream or its data. A difference that cannot be updated in place (retention) stops
// the start with a message, rather than silently running on the wrong kind of stream.
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
};

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
    if (changed.length === 0) {
      actions.push({ stream: wanted.name, action: 'unchanged' });
      continue;
    }
    await jsm.streams.update(wanted.name, { ...actual, ...wanted });
    actions.push({ stream: wanted.name, action: 'updated', changed });
  }
  return actions;
}
