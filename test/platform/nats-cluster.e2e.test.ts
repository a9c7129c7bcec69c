// `chronoverse all` on a private 3-node NATS cluster with R3 streams (issue 17): workflows fire every
// second and run-nows arrive every 200 ms while the nats-server that leads CV_EVENTS is SIGKILLed and,
// 10 s later, restarted on its store. Nothing is lost: every run-now answered 201 ends COMPLETED, and
// every request answered 503 is retried with its Idempotency-Key and ends too; every nominal second
// of every workflow is in its log exactly once (one JobScheduled or TickSkipped, none `missed`); each
// job hit its endpoint once; the read models equal a rebuild of the log. It reports how long the
// stream had no leader and how many requests failed during the fault.

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

// CV_TEST_CLUSTER_WORKFLOWS sets the number of per-second workflows (default 20; 200 for the figures in docs/deployment.md).
const CRON_WORKFLOWS = Number(process.env.CV_TEST_CLUSTER_WORKFLOWS ?? 20);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

let cluster: TestNatsCluster;
let endpoint: CountingEndpoint;
let world: SystemOnCluster;

beforeAll(async () => {
  endpoint = await startCountingEndpoint();
  cluster = await startNatsCluster(3);
  world = await startSystemOnCluster(cluster, {
    label: 'cluster',
  });
});

afterAll(async () => {
  await world?.dispose();
  await cluster?.dispose();
  endpoint?.close();
});

describe('a 3-node NATS cluster with R3 streams', () => {
  it('loses nothing when the stream leader is SIGKILLed under load and restarted', {
    timeout: 180_000,
  }, async () => {
    const { runtime, system, user, userId } = world;
    const { base, hits } = endpoint;
    const { jsm } = runtime.nats;
    for (const name of Object.values(streamNames)) {
      const info = await jsm.streams.info(name);
      expect(info.config.num_replicas, name).toBe(3);
      expect(info.cluster?.replicas ?? [], name).toHaveLength(2);
    }

    const workload = await startWorkload(user, base, CRON_WORKFLOWS, (id) => runNowVia(user, id));
    const runNow = runNowVia(user, workload.manualId);

    await sleep(5_000);
    const leader = await cluster.leaderOf(jsm, streamNames.events);
    expect(leader).toBeDefined();
    const killedAt = Date.now();
    await cluster.node(leader!).stop('SIGKILL');
    // How long CV_EVENTS had no leader, as the JetStream API of the surviving nodes tells it.
    let newLeader: string | undefined;
    await waitUntil(
      'a new CV_EVENTS leader',
      async () => {
        newLeader = await cluster.leaderOf(jsm, streamNames.events).catch(() => undefined);
        return newLeader !== undefined && newLeader !== leader;
      },
      30_000,
    );
    const electedAfterMs = Date.now() - killedAt;
    await sleep(Math.max(0, 10_000 - (Date.now() - killedAt)));
    await cluster.node(leader!).start();
    const restartedAt = Date.now();
    await waitUntil(
      'the restarted node is current again',
      async () =>
        (await jsm.streams.info(streamNames.events)).cluster?.replicas?.some(
          (r) => r.name === leader && r.current,
        ) === true,
      30_000,
    );
    const caughtUpAfterMs = Date.now() - restartedAt;
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

    const duringFault = answers.filter((a) => a.at >= killedAt && a.at < restartedAt);
    console.log(
      JSON.stringify({
        cron_workflows: CRON_WORKFLOWS,
        killed: leader,
        new_leader: newLeader,
        leader_elected_after_ms: electedAfterMs,
        restarted_node_current_after_ms: caughtUpAfterMs,
        run_now_requests: answers.length,
        during_fault: duringFault.length,
        failed_during_fault: duringFault.filter((a) => a.status !== 201).length,
        failed_total: checked.refused.length,
        failed_statuses: checked.refused.map((a) => a.status),
        slowest_answer_during_fault_ms: Math.max(0, ...duringFault.map((a) => a.ms)),
        slowest_answer_before_fault_ms: Math.max(
          0,
          ...answers.filter((a) => a.at < killedAt).map((a) => a.ms),
        ),
        cron_jobs: checked.cronJobs,
        skipped_ticks: checked.skippedTicks,
        withdrawn_ticks: checked.withdrawnTicks,
        run_now_jobs: checked.runNowJobs,
        history_read_retries: checked.historyReadRetries,
      }),
    );
  });
});
