// `chronoverse all` on a private 3-node NATS cluster with R3 streams (issue 17), one node of which
// runs in a network namespace of its own behind a veth pair. Workflows fire every second and run-nows
// arrive every 200 ms while that node, made the leader of CV_EVENTS first and holding the system's
// connection, is cut off for 20 s (its link down: the process runs on, unreachable by its peers and by
// every client, no reset sent) and then healed. The
// same promises as the leader kill (test/support/load-under-fault.ts): nothing lost, nothing twice,
// the read models equal a rebuild. It reports how long the stream had no leader, whether the system's
// connection was on the cut node, and how many requests failed during the cut.
// CV_TEST_PARTITION_WORKFLOWS sets the number of per-second workflows (default 20; 200 for the figures).

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { streamNames } from '../../src/events/stream-definitions.ts';
import { waitUntil } from '../../src/stack/process-control.ts';
import { checkNothingLost, runNowVia, startWorkload } from '../support/load-under-fault.ts';
import { startNatsCluster, type TestNatsCluster } from '../support/nats-cluster.ts';
import {
  type CountingEndpoint,
  type SystemOnCluster,
  startCountingEndpoint,
  startSystemOnCluster,
} from '../support/system-on-cluster.ts';

const CRON_WORKFLOWS = Number(process.env.CV_TEST_PARTITION_WORKFLOWS ?? 20);
const CUT_MS = 20_000;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

let cluster: TestNatsCluster;
let endpoint: CountingEndpoint;
let world: SystemOnCluster;

beforeAll(async () => {
  endpoint = await startCountingEndpoint();
  cluster = await startNatsCluster(3, { partitionable: true });
  world = await startSystemOnCluster(cluster, {
    label: 'partition',
    // The hard case: the system's connection is on the node that will be cut off. Given that node's
    // address alone, it learns the others from the cluster (as any client does) and must move to them.
    systemNatsUrl: cluster.nodes.at(-1)!.url,
    // The test's own connection stays on the majority side, so what it measures (the election, the
    // checks) is not delayed by its own reconnect.
    testNatsUrl: cluster.nodes
      .slice(0, -1)
      .map((n) => n.url)
      .join(','),
  });
});

afterAll(async () => {
  await world?.dispose();
  await cluster?.dispose();
  endpoint?.close();
});

describe('a 3-node NATS cluster with R3 streams, one node cut off', () => {
  it('loses nothing when the stream leader is partitioned from the others and every client for 20 s', {
    // 200 workflows (the figures in docs/deployment.md) take minutes to create and to check.
    timeout: CRON_WORKFLOWS > 50 ? 900_000 : 300_000,
  }, async () => {
    const { runtime, system, user, userId } = world;
    const { base, hits } = endpoint;
    const { jsm, nc } = runtime.nats;
    const isolated = cluster.nodes.at(-1)!;
    // Make the node that will be cut off the leader of the event log (a step-down elects another at random).
    for (let i = 0; i < 20 && (await cluster.leaderOf(jsm, streamNames.events)) !== isolated.name; i++) {
      await nc
        .request(`$JS.API.STREAM.LEADER.STEPDOWN.${streamNames.events}`, undefined, { timeout: 5000 })
        .catch(() => {});
      await waitUntil(
        'a CV_EVENTS leader',
        async () => (await cluster.leaderOf(jsm, streamNames.events).catch(() => undefined)) !== undefined,
        30_000,
      );
    }
    const ledBeforeCut = (await cluster.leaderOf(jsm, streamNames.events)) === isolated.name;

    const workload = await startWorkload(user, base, CRON_WORKFLOWS, (id) => runNowVia(user, id));
    const runNow = runNowVia(user, workload.manualId);
    await sleep(5_000);

    const connz = (await (await fetch(`${isolated.monitorUrl}/connz`)).json()) as {
      connections?: { name?: string }[];
    };
    const systemOnCutNode = (connz.connections ?? []).some((c) => c.name?.startsWith('chronoverse-all'));
    expect(systemOnCutNode, JSON.stringify(connz.connections?.map((c) => c.name))).toBe(true);
    const cutAt = Date.now();
    await isolated.cutOff();
    let newLeader: string | undefined;
    await waitUntil(
      'a CV_EVENTS leader on the majority side',
      async () => {
        newLeader = await cluster.leaderOf(jsm, streamNames.events).catch(() => undefined);
        return newLeader !== undefined && newLeader !== isolated.name;
      },
      60_000,
    );
    const electedAfterMs = Date.now() - cutAt;
    await sleep(Math.max(0, CUT_MS - (Date.now() - cutAt)));
    await isolated.heal();
    const healedAt = Date.now();
    await waitUntil(
      'the cut node is current again',
      async () =>
        (await jsm.streams.info(streamNames.events)).cluster?.replicas?.some(
          (r) => r.name === isolated.name && r.current,
        ) === true,
      60_000,
    );
    const currentAfterMs = Date.now() - healedAt;
    await sleep(3000);
    const answers = await workload.stop();
    const checked = await checkNothingLost({
      user,
      runtime,
      userId,
      workload,
      answers,
      runNow,
      hits,
      settle: async () => void expect(await system.kill('SIGTERM')).toBe(0),
    });

    const duringCut = answers.filter((a) => a.at >= cutAt && a.at < healedAt);
    console.log(
      JSON.stringify({
        cron_workflows: CRON_WORKFLOWS,
        cut_node: isolated.name,
        cut_node_led_cv_events: ledBeforeCut,
        system_connected_to_cut_node: systemOnCutNode,
        new_leader: newLeader,
        leader_elected_after_ms: electedAfterMs,
        cut_node_current_after_heal_ms: currentAfterMs,
        run_now_requests: answers.length,
        during_cut: duringCut.length,
        failed_during_cut: duringCut.filter((a) => a.status !== 201).length,
        failed_total: checked.refused.length,
        failed_statuses: checked.refused.map((a) => a.status),
        slowest_answer_during_cut_ms: Math.max(0, ...duringCut.map((a) => a.ms)),
        cron_jobs: checked.cronJobs,
        skipped_ticks: checked.skippedTicks,
        withdrawn_ticks: checked.withdrawnTicks,
        run_now_jobs: checked.runNowJobs,
        history_read_retries: checked.historyReadRetries,
      }),
    );
  });
});
