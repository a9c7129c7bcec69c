// The webhook delivery worker as one unit a role starts: the intake (a durable consumer of the log
// that records the deliveries owed) and the dispatcher (which sends them). Wired here so a role needs
// only its runtime's connections.
import type { Kysely } from 'kysely';
import type { CommandHandler } from '../actors/command-handler.ts';
import type { Config } from '../config/config.ts';
import type { Database } from '../infra/database.ts';
import { EndpointPolicy, parseNetworks } from '../infra/endpoint-policy.ts';
import type { Nats } from '../infra/nats-connection.ts';
import { loadSecretBox } from '../infra/secret-box.ts';
import type { Logger } from '../telemetry/logger.ts';
import { ReactorRunner } from './reactor.ts';
import { intakeWatermark, WebhookDispatcher } from './webhook-dispatcher.ts';
import { webhookIntake } from './webhook-intake.ts';
import { WebhookSender } from './webhook-sender.ts';

export interface WebhookDeliveryDeps {
  readonly config: Config;
  readonly nats: Nats;
  readonly db: Kysely<Database>;
  readonly commands: CommandHandler;
  readonly log: Logger;
  readonly now?: () => Date;
}

export async function startWebhookDelivery(deps: WebhookDeliveryDeps): Promise<{ stop(): Promise<void> }> {
  const { config } = deps;
  const now = deps.now ?? (() => new Date());
  const intake = new ReactorRunner(
    deps.nats,
    webhookIntake({ db: deps.db, commands: deps.commands, now }),
    deps.log,
  );
  const timeoutMs = config.CV_WEBHOOK_TIMEOUT_SECONDS * 1000;
  const sender = new WebhookSender(
    new EndpointPolicy(parseNetworks(config.CV_HEARTBEAT_ALLOWED_NETWORKS)),
    timeoutMs,
  );
  const dispatcher = new WebhookDispatcher({
    db: deps.db,
    watermark: intakeWatermark(deps.nats),
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
  await intake.start();
  dispatcher.start();
  return {
    async stop() {
      await Promise.all([intake.stop(), dispatcher.stop()]);
      sender.close();
    },
  };
}
