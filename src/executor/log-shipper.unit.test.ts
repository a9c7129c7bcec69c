import type { JetStreamClient, JetStreamPublishOptions } from '@nats-io/jetstream';
import { headers as natsHeaders } from '@nats-io/transport-node';
import { describe, expect, it } from 'vitest';
import { isRetained, LOG_RETENTION_HEADER, type LogBatch } from '../logs/log-batch.ts';
import { LogShipper } from './log-shipper.ts';

type Published = { subject: string; batch: LogBatch; options: Partial<JetStreamPublishOptions> | undefined };

/** A JetStream client that only records what is published. */
function recordingJs(): { js: JetStreamClient; published: Published[] } {
  const published: Published[] = [];
  const js = {
    publish: async (subject: string, data: Uint8Array, options?: Partial<JetStreamPublishOptions>) => {
      published.push({ subject, batch: JSON.parse(new TextDecoder().decode(data)) as LogBatch, options });
      return { stream: 'CV_LOGS', seq: published.length, duplicate: false };
    },
  } as unknown as JetStreamClient;
  return { js, published };
}

async function ship(store: boolean | undefined, lines: number): Promise<Published[]> {
  const { js, published } = recordingJs();
  const job = { workflowId: 'wf1', jobId: 'j1', attempt: 1, ...(store === undefined ? {} : { store }) };
  const shipper = new LogShipper(js, 'cv.logs.u1.j1', job, undefined, { maxBatchLines: 2, now: () => 0 });
  for (let i = 1; i <= lines; i++) shipper.add('stdout', `line ${i}`);
  expect(await shipper.close()).toBe(lines);
  return published;
}

describe('LogShipper and log retention', () => {
  it('marks every batch of a job whose lines are not stored, and still ships every line', async () => {
    const published = await ship(false, 5);
    expect(published.flatMap((p) => p.batch.lines.map((l) => l.seq))).toEqual([1, 2, 3, 4, 5]);
    expect(published).toHaveLength(3);
    for (const p of published) {
      expect(p.options?.headers?.get(LOG_RETENTION_HEADER)).toBe('false');
      expect(isRetained(p.options?.headers)).toBe(false);
    }
  });

  it('adds no header by default or when lines are stored: such batches read as retained', async () => {
    for (const store of [undefined, true]) {
      const published = await ship(store, 3);
      expect(published.map((p) => p.options?.headers)).toEqual([undefined, undefined]);
      expect(published.every((p) => isRetained(p.options?.headers))).toBe(true);
    }
  });

  it('reads only an explicit false as "do not store"', () => {
    const h = natsHeaders();
    expect(isRetained(h)).toBe(true);
    h.set(LOG_RETENTION_HEADER, 'true');
    expect(isRetained(h)).toBe(true);
    h.set(LOG_RETENTION_HEADER, 'false');
    expect(isRetained(h)).toBe(false);
  });
});

describe('LogShipper order', () => {
  it('stores batches in line order even when an earlier batch has to be retried', async () => {
    const stored: number[] = [];
    let failures = 1;
    const js = {
      publish: async (_subject: string, data: Uint8Array) => {
        const batch = JSON.parse(new TextDecoder().decode(data)) as LogBatch;
        // The first batch is refused once (a timeout, a leader change); later ones would go through.
        if (batch.lines[0]!.seq === 1 && failures-- > 0) throw new Error('timeout');
        stored.push(...batch.lines.map((l) => l.seq));
        return { stream: 'CV_LOGS', seq: stored.length, duplicate: false };
      },
    } as unknown as JetStreamClient;
    const job = { workflowId: 'wf1', jobId: 'j1', attempt: 1 };
    const shipper = new LogShipper(js, 'cv.logs.u1.j1', job, undefined, { maxBatchLines: 2, now: () => 0 });
    for (let i = 1; i <= 7; i++) shipper.add('stdout', `line ${i}`);
    expect(await shipper.close()).toBe(7);
    expect(stored).toEqual([1, 2, 3, 4, 5, 6, 7]);
  });
});

describe('LogShipper memory bound', () => {
  it('pauses the producer on unacknowledged bytes, not only lines, and resumes once they are stored', async () => {
    let release: () => void = () => {};
    const gate = new Promise<void>((r) => {
      release = r;
    });
    const js = {
      publish: async () => {
        await gate; // NATS is slow: nothing is acknowledged until released
        return { stream: 'CV_LOGS', seq: 1, duplicate: false };
      },
    } as unknown as JetStreamClient;
    const events: string[] = [];
    const flow = { pause: () => events.push('pause'), resume: () => events.push('resume') };
    const job = { workflowId: 'wf1', jobId: 'j1', attempt: 1 };
    const shipper = new LogShipper(js, 'cv.logs.u1.j1', job, flow, {
      maxBatchLines: 10,
      highWaterBytes: 64 * 1024,
      lowWaterBytes: 16 * 1024,
      now: () => 0,
    });
    const long = 'x'.repeat(16 * 1024);
    for (let i = 0; i < 3; i++) shipper.add('stdout', long);
    expect(events).toEqual([]); // 48 KiB: under the mark, far under 20,000 lines
    shipper.add('stdout', long);
    expect(events).toEqual(['pause']); // 64 KiB unacknowledged with only 4 lines
    release();
    expect(await shipper.close()).toBe(4);
    expect(events).toEqual(['pause', 'resume']);
  });
});
