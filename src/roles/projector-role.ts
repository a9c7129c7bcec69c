// The projector: every projection (Postgres read models, ClickHouse analytics) and the log processor
// (job output into ClickHouse). Each resumes from a durable position, so any number of restarts loses
// and duplicates nothing. Log retention (old daily partitions; webhook deliveries done with for 30
// days) runs here hourly, event log retention (finished jobs' commits to the archive, docs/events.md)
// every 5 minutes, and outbound webhooks are recorded (a projection beside the read models) and
// delivered here (docs/webhooks.md).

import { LogProcessor } from '../logs/log-processor.ts';
import { dropExpiredLogPartitions } from '../logs/log-retention.ts';
import { ProjectionRunner } from '../projections/projection-runner.ts';
import { allProjections } from '../projections/registry.ts';
import { compactWorkflows, retentionDeps, sweepFinishedJobs } from '../projections/retention-sweep.ts';
import { adoptIntakeConsumer, intakeWatermark, webhookIntake } from '../projections/webhook-intake.ts';
import { startWebhookDelivery } from '../reactors/webhook-delivery.ts';
import { pruneWebhookDeliveries } from '../reactors/webhook-log-retention.ts';
import type { RoleStarter } from './role.ts';

const HOUR_MS = 3_600_000;
/** Jobs finish every second; the sweep takes them in batches, a few minutes apart. */
const ARCHIVE_SWEEP_MS = 5 * 60_000;

export const startProjector: RoleStarter = async (runtime) => {
  const log = runtime.log.child('projection');
  const deps = { nats: runtime.nats, db: runtime.db, log, archive: runtime.archive };
  // Every projection on one consumer of the log: one delivery per commit, not one per projection. The
  // webhook intake reads it too, but is not a read model (`projections rebuild` leaves it alone).
  await adoptIntakeConsumer(runtime.nats, runtime.db);
  const intake = webhookIntake({ db: runtime.db, commands: runtime.commands, now: () => new Date() });
  const projections = new ProjectionRunner(deps, [...allProjections(runtime), intake]);
  const logs = new LogProcessor({
    nats: runtime.nats,
    clickhouse: runtime.clickhouse,
    database: runtime.config.CLICKHOUSE_DATABASE,
    log: runtime.log.child('logs'),
  });
  await projections.start();
  await logs.start();
  const webhooks = await startWebhookDelivery({
    config: runtime.config,
    db: runtime.db,
    watermark: intakeWatermark(runtime.db),
    log: runtime.log.child('webhooks'),
  });
  const retain = () =>
    dropExpiredLogPartitions(
      runtime.clickhouse,
      runtime.config.CLICKHOUSE_DATABASE,
      runtime.config.CV_LOG_RETENTION_DAYS,
      new Date(),
    )
      .then(
        (dropped) =>
          dropped.length && runtime.log.info('dropped expired log partitions', { partitions: dropped }),
      )
      .catch((err: unknown) => runtime.log.warn('log retention failed; will retry', { error: err }));
  const pruneDeliveries = () =>
    pruneWebhookDeliveries(runtime.db, new Date()).catch((err: unknown) =>
      runtime.log.warn('webhook delivery log retention failed; will retry', { error: err }),
    );
  const retentionDays = runtime.config.CV_EVENTS_RETENTION_DAYS;
  const sweepDeps = { ...retentionDeps(runtime), log };
  let sweeping: Promise<unknown> = Promise.resolve();
  const sweep = () => {
    const now = new Date();
    sweeping = sweepFinishedJobs(sweepDeps, { now, retentionDays })
      .then((r) => r.subjects && log.info('finished jobs moved to the archive', { ...r }))
      .then(() => compactWorkflows(sweepDeps, { now }))
      .then(
        (r) =>
          r.subjects && log.info('workflow commits behind their snapshots moved to the archive', { ...r }),
      )
      .catch((err: unknown) => log.warn('event log retention failed; will retry', { error: err }));
  };
  void retain();
  void pruneDeliveries();
  if (retentionDays > 0) sweep();
  const deliveryRetention = setInterval(pruneDeliveries, HOUR_MS);
  const retention = setInterval(retain, HOUR_MS);
  const eventRetention = retentionDays > 0 ? setInterval(sweep, ARCHIVE_SWEEP_MS) : undefined;
  runtime.log.info('projector started', {
    projections: projections.projections.map((p) => p.name),
    log_processor: true,
    webhooks: true,
  });
  return {
    name: 'projector',
    stop: async () => {
      clearInterval(retention);
      clearInterval(deliveryRetention);
      clearInterval(eventRetention);
      await sweeping;
      await Promise.all([projections.stop(), logs.stop(), webhooks.stop()]);
    },
  };
};
