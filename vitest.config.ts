import { defineConfig } from 'vitest/config';

// Three kinds of test, one project each: `unit` is pure logic without I/O; `int` and `e2e` talk to
// the real NATS, PostgreSQL, ClickHouse and Docker started by `npm run stack -- up`.
// CV_TEST_RESULTS_JSON (set by .ci/run) adds a JSON report, from which CI prints its summary line.
const jsonReport = process.env.CV_TEST_RESULTS_JSON;

// End-to-end files that spend most of their run waiting on real time (an outage held, a leader
// elected, a per-second cron): 11-43% of two cores busy while they run, against 70-85% for the
// browser, CLI and rolling-restart files. `npm test` (test/run-suite.ts) runs them beside the
// other end-to-end files, one of each at a time; each starts private stores or servers of its own.
export const waitingE2eFiles = [
  'test/webhooks/webhook-outage.e2e.test.ts',
  'test/platform/nats-partition.e2e.test.ts',
  'test/scheduler/sub-minute-cron.e2e.test.ts',
  'test/api/nats-outage.e2e.test.ts',
  'test/platform/store-faults-nats.e2e.test.ts',
  'test/platform/store-faults-postgres.e2e.test.ts',
  'test/platform/store-faults-docker.e2e.test.ts',
  'test/platform/store-faults-clickhouse.e2e.test.ts',
  'test/platform/nats-cluster.e2e.test.ts',
];

export default defineConfig({
  test: {
    // The tests' HEARTBEAT endpoints are servers on this machine, which the endpoint policy refuses
    // by default; the tests of that policy set their own (test/executor/heartbeat-ssrf.*).
    // Every test signs up from 127.0.0.1, and the contract test hundreds of times; the limiter's own
    // tests set theirs.
    env: { CV_HEARTBEAT_ALLOWED_NETWORKS: '127.0.0.0/8', CV_SIGNUP_LIMIT_PER_HOUR: '1000000' },
    ...(jsonReport ? { reporters: ['default', 'json'], outputFile: { json: jsonReport } } : {}),
    projects: [
      {
        test: {
          name: 'unit',
          include: ['src/**/*.unit.test.ts', 'test/**/*.unit.test.ts'],
          sequence: { groupOrder: 0 },
        },
      },
      {
        test: {
          name: 'int',
          setupFiles: ['test/support/role-output-on-failure.ts'],
          include: ['src/**/*.int.test.ts', 'test/**/*.int.test.ts'],
          testTimeout: 60_000,
          hookTimeout: 120_000,
          // Integration files share one Docker engine and one PostgreSQL; two at a time fits 2 cores.
          maxWorkers: 2,
          sequence: { groupOrder: 1 },
        },
      },
      {
        test: {
          name: 'e2e',
          setupFiles: ['test/support/role-output-on-failure.ts'],
          include: ['test/**/*.e2e.test.ts'],
          exclude: waitingE2eFiles,
          testTimeout: 120_000,
          hookTimeout: 180_000,
          maxWorkers: 1,
          sequence: { groupOrder: 2 },
        },
      },
      {
        test: {
          name: 'e2e-waiting',
          setupFiles: ['test/support/role-output-on-failure.ts'],
          include: waitingE2eFiles,
          testTimeout: 120_000,
          hookTimeout: 180_000,
          maxWorkers: 1,
          sequence: { groupOrder: 3 },
        },
      },
    ],
  },
});
