// Declares a durable consumer once and keeps its tunable settings current across restarts: created
// when missing; when present, only the fields that may change on a live consumer are updated (the
// filter and the start position of a durable are fixed for its life).
import {
  type ConsumerConfig,
  JetStreamApiCodes,
  JetStreamApiError,
  type JetStreamManager,
} from '@nats-io/jetstream';

export type UpdatableConsumerFields = Pick<
  Partial<ConsumerConfig>,
  'ack_wait' | 'max_deliver' | 'max_ack_pending'
>;

export async function ensureDurableConsumer(
  jsm: JetStreamManager,
  stream: string,
  config: Partial<ConsumerConfig> & { durable_name: string },
  updatable: readonly (keyof UpdatableConsumerFields)[],
): Promise<void> {
  try {
    await jsm.consumers.info(stream, config.durable_name);
  } catch (err) {
    if (!(err instanceof JetStreamApiError && err.code === JetStreamApiCodes.ConsumerNotFound)) throw err;
    await jsm.consumers.add(stream, config);
    return;
  }
  const update: UpdatableConsumerFields = {};
  for (const key of updatable) if (config[key] !== undefined) Object.assign(update, { [key]: config[key] });
  if (Object.keys(update).length > 0) await jsm.consumers.update(stream, config.durable_name, update);
}
