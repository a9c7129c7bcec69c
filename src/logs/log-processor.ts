// Copies job log lines from the JetStream live buffer (CV_LOGS) into ClickHouse `job_logs`, in
// batches bounded by size and by time (at most maxWaitMs). A message is acked only after
// ClickHouse accepted its lines, so an outage leaves them in JetStream and they flow once it is back.
// Rows collapse on (user, workflow, job, attempt, sequence) (ReplacingMergeTree; readers use FINAL),
// so a batch replayed after a crash duplicates nothing. A batch marked not to be stored (its workflow
// has `log_retention: false`) is acked at once and never reaches ClickHouse.
import type { ClickHouseClient } from '@clickhouse/client';
import { AckPolicy, DeliverPolicy, type JsMsg } from '@nats-io/jetstream';
import { assertIdentifier } from '../assert.ts';
import { ensureDurableConsumer } from '../events/durable-consumer.ts';
import { msToNanos, streamNames } from '../events/stream-definitions.ts';
import type { Nats } from '../infra/nats-connection.ts';
import type { Logger } from '../telemetry/logger.ts';
import { meters } from '../telemetry/metrics.ts';
import { isRetained, type LogBatch } from './log-batch.ts';
import { type JobLogRow, logRows } from './log-rows.ts';

export const LOG_PROCESSOR = 'log_processor';

export interface LogProcessorOptions {
  readonly batchLines?: number;
  /** The longest a line waits for its batch to fill. */
  readonly maxWaitMs?: number;
  readonly ackWaitMs?: number;
}

export class LogProcessor {
  private stopping = false;
  private loop: Promise<void> | undefined;
  private stopConsumer: (() => void) | undefined;
  private readonly batchLines: number;
  private readonly maxWaitMs: number;
  private readonly ackWaitMs: number;
  private readonly table: string;

  constructor(
    private readonly deps: { nats: Nats; clickhouse: ClickHouseClient; database: string; log: Logger },
    options: LogProcessorOptions = {},
  ) {
    this.batchLines = options.batchLines ?? 20_000;
    // nats.js refuses a pull that expires in under a second.
    this.maxWaitMs = Math.max(1000, options.maxWaitMs ?? 1000);
    // Short, so lines held by a killed processor come back soon; working() covers slow inserts.
    this.ackWaitMs = options.ackWaitMs ?? 10_000;
    this.table = `${assertIdentifier(deps.database)}.job_logs`;
  }

  async start(): Promise<void> {
    const { jsm } = this.deps.nats;
    await ensureDurableConsumer(
      jsm,
      streamNames.logs,
      {
        durable_name: LOG_PROCESSOR,
        ack_policy: AckPolicy.Explicit,
        deliver_policy: DeliverPolicy.All,
        ack_wait: msToNanos(this.ackWaitMs),
        max_ack_pending: 50_000,
        max_deliver: -1,
      },
      ['ack_wait'],
    );
    this.loop = this.run();
  }

  private async run(): Promise<void> {
    while (!this.stopping) {
      try {
        const consumer = await this.deps.nats.js.consumers.get(streamNames.logs, LOG_PROCESSOR);
        let held: JsMsg[] = [];
        let rows: JobLogRow[] = [];
        let since = 0;
        while (!this.stopping) {
          // ClickHouse wants big inserts (each makes a part it must merge): gather up to batchLines
          // rows, but never hold rows longer than maxWaitMs. Live tails read JetStream, not this.
          const batch = await consumer.fetch({ max_messages: 200, expires: this.maxWaitMs });
          this.stopConsumer = () => batch.stop();
          for await (const m of batch) {
            if (!isRetained(m.headers)) {
              // Nothing to store, so nothing to wait for: held, it would only delay the ack.
              m.ack();
              continue;
            }
            try {
              rows.push(...logRows(m.subject, JSON.parse(new TextDecoder().decode(m.data)) as LogBatch));
              held.push(m);
              since ||= Date.now();
            } catch (err) {
              this.deps.log.error('unreadable log batch dropped', {
                subject: m.subject,
                sequence: m.seq,
                error: err,
              });
              m.term();
            }
          }
          const due =
            rows.length >= this.batchLines || (rows.length > 0 && Date.now() - since >= this.maxWaitMs);
          if (!due) continue;
          await this.insert(rows, held);
          for (const h of held) h.ack();
          held = [];
          rows = [];
          since = 0;
        }
      } catch (err) {
        if (this.stopping) break;
        this.deps.log.error('log processor consumer failed; restarting', { error: err });
        await new Promise((r) => setTimeout(r, 1000));
      }
    }
  }

  /** Inserts until ClickHouse takes the rows, keeping the held messages alive meanwhile. */
  private async insert(rows: JobLogRow[], held: JsMsg[]): Promise<void> {
    for (let attempt = 0; rows.length; attempt++) {
      try {
        const started = performance.now();
        await this.deps.clickhouse.insert({ table: this.table, values: rows, format: 'JSONEachRow' });
        meters().logFlushDuration.record((performance.now() - started) / 1000);
        meters().logLinesIngested.add(rows.length);
        return;
      } catch (err) {
        if (this.stopping) throw err;
        this.deps.log.warn('ClickHouse refused a log batch; retrying', {
          lines: rows.length,
          attempt,
          error: err,
        });
        for (const h of held) h.working();
        await new Promise((r) => setTimeout(r, Math.min(5000, 200 * 2 ** attempt)));
      }
    }
  }

  async stop(): Promise<void> {
    this.stopping = true;
    this.stopConsumer?.();
    await this.loop;
  }
}
