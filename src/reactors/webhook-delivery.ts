// The webhook sender as a role starts it: the dispatcher, which sends the deliveries the intake
// recorded (a projection on the projector's reader: src/projections/webhook-intake.ts). Wired here
// so a role needs only its runtime's connections and the intake's watermark.
import type { Kysely } from 'kysely';
import type { Config } from '../config/config.ts';
import type { Database } from '../infra/database.ts';
import { EndpointPolicy, parseNetworks } from '../infra/endpoint-policy.ts';
import { loadSecretBox } from '../infra/secret-box.ts';
import type { Logger } from '../telemetry/logger.ts';
import { WebhookDispatcher } from './webhook-dispatcher.ts';
import { WebhookSender } from './webhook-sender.ts';

export interface WebhookDeliveryDeps {
  readonly config: Config;
  readonly db: Kysely<Database>;
  /** Up to where the intake has recorded every commit's deliveries (its checkpoint). */
  readonly watermark: () => Promise<number>;
  readonly log: Logger;
  readonly now?: () => Date;
}

export async function startWebhookDelivery(deps: WebhookDeliveryDeps): Promise<{ stop(): Promise<void> }> {
  const { config } = deps;
  const now = deps.now ?? (() => new Date());
  const timeoutMs = config.CV_WEBHOOK_TIMEOUT_SECONDS * 1000;
  const sender = new WebhookSender(
    new EndpointPolicy(parseNetworks(config.CV_HEARTBEAT_ALLOWED_NETWORKS)),
    timeoutMs,
  );
  const dispatcher = new WebhookDispatcher({
    db: deps.db,
    watermark: deps.watermark,
    send: (post) => sender.send(post),
    secrets: await loadSecretBox(config),
    settings: {
      baseMs: config.CV_WEBHOOK_BACKOFF_BASE_MS,
      capMs: config.CV_WEBHOOK_BACKOFF_CAP_MS,
      maxAgeMs: config.CV_WEBHOOK_MAX_AGE_SECONDS * 1000,
      disableAfter: config.CV_WEBHOOK_DISABLE_AFTER_FAILURES,
      pollMs: config.CV_WEBHOOK_POLL_MS,
      timeoutMs,
      parallel: 32,
    },
    now,
    log: deps.log,
  });
  dispatcher.start();
  return {
    async stop() {
      await dispatcher.stop();
      sender.close();
    },
  };
}
