// Ships a job's output lines to JetStream (cv.logs.<userId>.<jobId>) in batches. Memory is bounded:
// past `highWater` unacknowledged lines or `highWaterBytes` of them the producer is told to pause (the
// container's output stream is paused, so Docker buffers and the container slows), and resumes once
// both are below their low-water marks. A failed
// publish is retried until it succeeds: a slow or briefly absent NATS slows the job, never loses a line.
// A job whose workflow has `log_retention: false` still ships (the live tail reads the buffer), but
// marks every batch so that the log processor does not store it.
import type { JetStreamClient } from '@nats-io/jetstream';
import { type MsgHdrs, headers as natsHeaders } from '@nats-io/transport-node';
import { utf8Bytes } from '../events/utf8.ts';
import { LOG_RETENTION_HEADER, type LogBatch, type LogLine, type LogStream } from '../logs/log-batch.ts';

export interface LogShipperOptions {
  readonly maxBatchLines?: number;
  readonly maxBatchBytes?: number;
  readonly flushMs?: number;
  readonly highWater?: number;
  readonly lowWater?: number;
  /** The same in encoded bytes: 20,000 lines of up to 16 KiB each would be 320 MiB. */
  readonly highWaterBytes?: number;
  readonly lowWaterBytes?: number;
  readonly now?: () => number;
}

export class LogShipper {
  private seq = 0;
  private batch: LogLine[] = [];
  private batchBytes = 0;
  private unacked = 0;
  private unackedBytes = 0;
  private timer: NodeJS.Timeout | undefined;
  private readonly inFlight = new Set<Promise<void>>();
  /** The last batch handed to publish(); the next one waits for it (publish() never rejects). */
  private previous: Promise<void> = Promise.resolve();
  private paused = false;
  private readonly o: Required<LogShipperOptions>;
  private readonly headers: MsgHdrs | undefined;

  constructor(
    private readonly js: JetStreamClient,
    private readonly subject: string,
    /** `store: false` marks every batch as not to be stored; the default stores. */
    private readonly job: {
      workflowId: string;
      jobId: string;
      attempt: number;
      store?: boolean;
      /** The run's trace id, written on every batch (and so on every stored line). */
      traceId?: string;
    },
    private readonly flow: { pause(): void; resume(): void } = { pause() {}, resume() {} },
    options: LogShipperOptions = {},
  ) {
    this.o = {
      maxBatchLines: 500,
      maxBatchBytes: 256 * 1024,
      flushMs: 20,
      highWater: 20_000,
      lowWater: 5_000,
      highWaterBytes: 8 * 1024 * 1024,
      lowWaterBytes: 2 * 1024 * 1024,
      now: Date.now,
      ...options,
    };
    if (job.store === false) {
      this.headers = natsHeaders();
      this.headers.set(LOG_RETENTION_HEADER, 'false');
    }
  }

  /** Lines accepted so far. */
  get lines(): number {
    return this.seq;
  }

  add(stream: LogStream, line: string): void {
    this.seq += 1;
    this.batch.push({ seq: this.seq, stream, ts: this.o.now(), line });
    // The encoded size, not the text length: JSON writes a control character in 6 bytes, and a batch
    // must stay well under NATS's max_payload (1 MiB by default) or it could never be published.
    const bytes = Buffer.byteLength(JSON.stringify(line)) + 48;
    this.batchBytes += bytes;
    this.unacked += 1;
    this.unackedBytes += bytes;
    if (!this.paused && (this.unacked >= this.o.highWater || this.unackedBytes >= this.o.highWaterBytes)) {
      this.paused = true;
      this.flow.pause();
    }
    if (this.batch.length >= this.o.maxBatchLines || this.batchBytes >= this.o.maxBatchBytes) this.flush();
    else this.timer ??= setTimeout(() => this.flush(), this.o.flushMs);
  }

  private flush(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    if (this.batch.length === 0) return;
    const lines = this.batch;
    const bytes = this.batchBytes;
    this.batch = [];
    this.batchBytes = 0;
    // One batch at a time, in order: were batch k retried after batch k+1 was stored, a live tail
    // (which sends lines in stream order and resumes after the last sequence it sent) would skip k.
    const p = this.previous.then(() => this.publish(lines, bytes)).finally(() => this.inFlight.delete(p));
    this.previous = p;
    this.inFlight.add(p);
  }

  private async publish(lines: LogLine[], bytes: number): Promise<void> {
    const body: LogBatch = {
      workflow_id: this.job.workflowId,
      job_id: this.job.jobId,
      attempt: this.job.attempt,
      ...(this.job.traceId ? { trace_id: this.job.traceId } : {}),
      lines,
    };
    const data = utf8Bytes(JSON.stringify(body));
    const msgID = `${this.job.jobId}:${this.job.attempt}:${lines[0]!.seq}`;
    for (let attempt = 0; ; attempt++) {
      try {
        await this.js.publish(this.subject, data, {
          msgID,
          ...(this.headers ? { headers: this.headers } : {}),
        });
        break;
      } catch {
        // Kept and retried: the batch stays in memory and the producer stays paused meanwhile.
        await new Promise((r) => setTimeout(r, Math.min(2000, 50 * 2 ** attempt)));
      }
    }
    this.unacked -= lines.length;
    this.unackedBytes -= bytes;
    if (this.paused && this.unacked <= this.o.lowWater && this.unackedBytes <= this.o.lowWaterBytes) {
      this.paused = false;
      this.flow.resume();
    }
  }

  /** Flushes what is left and waits until every line is stored. */
  async close(): Promise<number> {
    this.flush();
    while (this.inFlight.size) await Promise.all(this.inFlight);
    return this.seq;
  }
}
