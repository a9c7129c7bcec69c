// What an executor does when it starts again after dying: containers it labelled and did not finish
// are killed and removed, and their attempts are failed as SYSTEM `executor_lost`, which retries them.
// And a dispatch message that ran out of deliveries ends its job as FAILED (SYSTEM) instead of
// lying in the queue forever.
import { AckPolicy, DeliverPolicy, JetStreamApiCodes, JetStreamApiError } from '@nats-io/jetstream';
import type Docker from 'dockerode';
import type { CommandHandler } from '../actors/command-handler.ts';
import { decodeDispatch } from '../actors/dispatch-message.ts';
import { jobDecider } from '../actors/job-decider.ts';
import { isRefusal } from '../errors.ts';
import { ensureDurableConsumer } from '../events/durable-consumer.ts';
import { msToNanos, streamNames } from '../events/stream-definitions.ts';
import type { Nats } from '../infra/nats-connection.ts';
import type { Logger } from '../telemetry/logger.ts';
import { LABELS } from './container-runner.ts';
import { dispatchConsumerName } from './executor.ts';

async function failAttempt(
  commands: CommandHandler,
  job: { userId: string; jobId: string; attempt: number },
  failure: { reason: string; error_message: string; retryable: boolean },
): Promise<void> {
  // The container is gone already: were this end not recorded now, nothing would record it until the
  // dispatch message's redelivery. An outage is waited out (the command id makes a retry land once).
  await throughOutage(async () => {
    const current = await commands.load(jobDecider, job.userId, job.jobId);
    if (!current.exists || current.state.context.attempt !== job.attempt) return;
    if (!current.state.matches('RUNNING') && !current.state.matches('QUEUED')) return;
    await commands.handle(jobDecider, {
      commandId: `${job.jobId}:${job.attempt}:${failure.reason}`,
      userId: job.userId,
      aggregateId: job.jobId,
      command: { type: 'FailJob', data: { attempt: job.attempt, failure_kind: 'SYSTEM', ...failure } },
    });
  });
}

/** Runs `step` again through an outage (about a minute); a refusal ends it quietly, as done. */
async function throughOutage<T>(step: () => Promise<T>): Promise<T | undefined> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await step();
    } catch (err) {
      if (isRefusal(err)) return undefined;
      if (attempt >= OUTAGE_TRIES) throw err;
      await new Promise((r) => setTimeout(r, Math.min(5000, 100 * 2 ** attempt)));
    }
  }
}

/** How often a failed attempt is reported through an outage before the caller is told (about a minute). */
const OUTAGE_TRIES = 15;

export async function recoverOrphans(
  deps: { docker: Docker; commands: CommandHandler; log: Logger },
  executorId: string,
): Promise<number> {
  const containers = await deps.docker.listContainers({
    all: true,
    filters: { label: [`${LABELS.managed}=true`, `${LABELS.executor}=${executorId}`] },
  });
  let removed = 0;
  for (const c of containers) {
    const labels = c.Labels;
    const job = {
      userId: labels[LABELS.user] ?? '',
      jobId: labels[LABELS.job] ?? '',
      attempt: Number(labels[LABELS.attempt]),
    };
    // One Docker engine may serve two installations (staging beside production, every end-to-end
    // test's own system) whose executors carry the same id, by default `<hostname>-<pool>`. A
    // container whose job this installation's log does not hold is the other one's, maybe running
    // right now: removing it once killed a live job there. It is left to its own executor.
    if (job.userId && job.jobId) {
      const known = await throughOutage(
        async () => (await deps.commands.load(jobDecider, job.userId, job.jobId)).exists,
      );
      if (known === false) {
        deps.log.warn(
          'left alone a container with this executor id whose job this installation does not know: another installation shares the Docker engine (give its executors distinct CV_EXECUTOR_ID values), or the job was purged by retention long ago (remove the container by hand)',
          { container: c.Id.slice(0, 12), job: job.jobId },
        );
        continue;
      }
    }
    await deps.docker
      .getContainer(c.Id)
      .remove({ force: true, v: true })
      .catch(() => {});
    removed++;
    deps.log.warn('removed a container left by an earlier run of this executor', {
      container: c.Id.slice(0, 12),
      job: job.jobId,
      attempt: job.attempt,
    });
    if (job.userId && job.jobId) {
      await failAttempt(deps.commands, job, {
        reason: 'executor_lost',
        error_message: 'the executor restarted while this attempt ran',
        retryable: true,
      });
    }
  }
  return removed;
}

export const maxDeliveriesConsumerName = (pool: string): string => `max_deliveries_${pool}`;

/**
 * Ends the job of every dispatch message that exhausted its deliveries (FAILED, SYSTEM
 * `max_deliveries`), then removes the message. The advisories come from a stream through a durable
 * consumer, so each is handled at least once by some executor of the pool; handling twice is
 * harmless (the fail command's id is derived from job and attempt, the removal of a removed message
 * is a no-op).
 */
export function watchMaxDeliveries(
  deps: { nats: Nats; commands: CommandHandler; log: Logger },
  pool: string,
): { stop(): Promise<void> } {
  const name = maxDeliveriesConsumerName(pool);
  let stopping = false;
  let stopConsumer: (() => void) | undefined;

  const handle = async (advisory: { stream_seq: number; deliveries: number }): Promise<void> => {
    // null: removed already (acked late, or handled before). Any error is a real failure: nak.
    const stored = await deps.nats.jsm.streams.getMessage(streamNames.dispatch, {
      seq: advisory.stream_seq,
    });
    if (!stored) return;
    const job = decodeDispatch(stored.data);
    await failAttempt(
      deps.commands,
      { userId: job.user_id, jobId: job.job_id, attempt: job.attempt },
      {
        reason: 'max_deliveries',
        error_message: `no executor could run this attempt in ${advisory.deliveries} deliveries`,
        retryable: false,
      },
    );
    await deps.nats.jsm.streams
      .deleteMessage(streamNames.dispatch, advisory.stream_seq)
      .catch((err: unknown) => {
        const gone = err instanceof JetStreamApiError && err.code === JetStreamApiCodes.NoMessageFound;
        if (!gone) throw err;
      });
  };

  const declare = () =>
    ensureDurableConsumer(
      deps.nats.jsm,
      streamNames.dispatchAdvisories,
      {
        durable_name: name,
        ack_policy: AckPolicy.Explicit,
        deliver_policy: DeliverPolicy.All,
        filter_subject: `$JS.EVENT.ADVISORY.CONSUMER.MAX_DELIVERIES.${streamNames.dispatch}.${dispatchConsumerName(pool)}`,
        ack_wait: msToNanos(30_000),
        max_deliver: -1,
      },
      ['ack_wait'],
    );

  const loop = (async () => {
    while (!stopping) {
      try {
        // Declared inside the retry: a stream not yet there (migrations still running) or a timeout
        // at start is retried, not an unhandled rejection that ends the executor.
        await declare();
        const consumer = await deps.nats.js.consumers.get(streamNames.dispatchAdvisories, name);
        const messages = await consumer.consume({ max_messages: 16 });
        stopConsumer = () => messages.stop();
        if (stopping) {
          messages.stop();
          break;
        }
        for await (const m of messages) {
          try {
            await handle(m.json<{ stream_seq: number; deliveries: number }>());
            m.ack();
          } catch (err) {
            deps.log.error('could not end a job whose dispatch ran out of deliveries; will retry', {
              advisory_sequence: m.seq,
              error: err,
            });
            m.nak(5000);
          }
        }
      } catch (err) {
        if (stopping) break;
        deps.log.error('max-deliveries consumer failed; restarting', { error: err });
        await new Promise((r) => setTimeout(r, 1000));
      }
    }
  })();

  return {
    async stop() {
      stopping = true;
      stopConsumer?.();
      await loop;
    },
  };
}
