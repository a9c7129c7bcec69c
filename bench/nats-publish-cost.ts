// The client CPU of one acknowledged JetStream publish, the step every commit, dispatch and log batch
// takes (~6 per heartbeat job across the roles). Paced at a fixed rate as under load, in this process
// alone against a private nats-server, alternating two ways of publishing the same message (headers as
// a commit carries them: a message id, an expected last subject sequence, one header of ours):
// - `js_publish`: nats.js's `js.publish`, which goes through `nc.request` (what Chronoverse uses);
// - `shared_reply`: a core publish whose reply subject is a token under one subscription for all of
//   them, one timeout sweep instead of a timer each, the ack parsed once.
// Only the publishing process is measured: nats-server's share is the same for both.
import type { JetStreamClient } from '@nats-io/jetstream';
import { createInbox, headers, type NatsConnection } from '@nats-io/transport-node';
import { connectNats } from '../src/infra/nats-connection.ts';
import { startNatsServer } from '../test/support/nats-server.ts';
import type { Benchmark, Scale } from './support/benchmark.ts';
import { median, round } from './support/stats.ts';

const sizes: Record<Scale, { rates: number[]; seconds: number; rounds: number }> = {
  full: { rates: [1000, 4000], seconds: 8, rounds: 3 },
  small: { rates: [1000], seconds: 2, rounds: 1 },
};

const STREAM = 'PUBLISH_COST';
const PAYLOAD = JSON.stringify([{ type: 'JobStarted', data: { pad: 'x'.repeat(300) } }]);

type Publish = (subject: string, sequence: number) => Promise<unknown>;

function jsPublish(js: JetStreamClient): Publish {
  return (subject, n) => {
    const h = headers();
    h.set('Cv-Event-Types', 'JobStarted');
    return js.publish(subject, PAYLOAD, { msgID: `m-${n}`, expect: { lastSubjectSequence: 0 }, headers: h });
  };
}

function sharedReplyPublish(nc: NatsConnection): Publish {
  const inbox = createInbox();
  const waiting = new Map<string, (data: Uint8Array) => void>();
  const decoder = new TextDecoder();
  let next = 0;
  nc.subscribe(`${inbox}.*`, {
    callback: (_err, m) => {
      const token = m.subject.slice(inbox.length + 1);
      const resolve = waiting.get(token);
      if (!resolve) return;
      waiting.delete(token);
      resolve(m.data);
    },
  });
  return (subject, n) =>
    new Promise((resolve, reject) => {
      const token = String(next++);
      waiting.set(token, (data) => {
        const ack = JSON.parse(decoder.decode(data)) as { error?: unknown };
        if (ack.error) reject(new Error(JSON.stringify(ack.error)));
        else resolve(ack);
      });
      const h = headers();
      h.set('Cv-Event-Types', 'JobStarted');
      h.set('Nats-Msg-Id', `m-${n}`);
      h.set('Nats-Expected-Last-Subject-Sequence', '0');
      nc.publish(subject, PAYLOAD, { reply: `${inbox}.${token}`, headers: h });
    });
}

/** Publishes at `rate` for `seconds` (each to a subject of its own, as a new actor's first commit). */
async function pacedRun(publish: Publish, run: string, rate: number, seconds: number) {
  const started = performance.now();
  const cpu = process.cpuUsage();
  const pending: Promise<unknown>[] = [];
  let sent = 0;
  await new Promise<void>((done) => {
    const tick = setInterval(() => {
      const elapsed = performance.now() - started;
      const due = Math.min(rate * seconds, Math.floor((elapsed / 1000) * rate));
      for (; sent < due; sent++) pending.push(publish(`cost.${run}.${sent}`, sent));
      if (sent >= rate * seconds) {
        clearInterval(tick);
        done();
      }
    }, 1);
  });
  await Promise.all(pending);
  const used = process.cpuUsage(cpu);
  return { published: sent, cpu_us_per_publish: (used.user + used.system) / sent };
}

export const natsPublishCostBenchmark: Benchmark = {
  name: 'nats_publish_cost',
  description:
    'Client CPU of one acknowledged JetStream publish: js.publish against one shared reply subscription',
  async run(scale, progress) {
    const { rates, seconds, rounds } = sizes[scale];
    const server = await startNatsServer();
    // The connection the roles make (its writes coalesced per event loop turn), so that `js_publish`
    // costs what a role's publish costs.
    const { nc, js, jsm } = await connectNats(server.url, 'nats-publish-cost');
    try {
      await jsm.streams.add({ name: STREAM, subjects: ['cost.>'] });
      const ways: Record<string, Publish> = {
        js_publish: jsPublish(js),
        shared_reply: sharedReplyPublish(nc),
      };
      const results: Record<string, object> = {};
      let run = 0;
      for (const rate of rates) {
        const samples: Record<string, number[]> = { js_publish: [], shared_reply: [] };
        for (let pass = 0; pass < rounds; pass++) {
          for (const [way, publish] of Object.entries(ways)) {
            const r = await pacedRun(publish, String(run++), rate, seconds);
            samples[way]!.push(r.cpu_us_per_publish);
            progress(
              `nats_publish_cost: ${rate}/s ${way} round ${pass + 1}: ${round(r.cpu_us_per_publish)} µs`,
            );
          }
          await jsm.streams.purge(STREAM);
        }
        const js = median(samples.js_publish!);
        const shared = median(samples.shared_reply!);
        results[`${rate}_per_s`] = {
          js_publish_us: { median: round(js), runs: samples.js_publish!.map((x) => round(x)) },
          shared_reply_us: { median: round(shared), runs: samples.shared_reply!.map((x) => round(x)) },
          ratio_js_to_shared: round(js / shared),
        };
      }
      return {
        what: 'CPU µs of this process per acknowledged publish, paced (a 1 ms timer drives the pace and its cost is in both), median of alternating rounds',
        seconds_per_round: seconds,
        ...results,
      };
    } finally {
      await nc.close();
      await server.dispose();
    }
  },
};
