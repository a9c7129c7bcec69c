// An executor process killed with SIGKILL in the middle of a job: after it restarts (same executor
// id) no container of the dead run is left, the lost attempt is failed as SYSTEM executor_lost and
// retried, and at no moment do two attempts of the job run at once. And a container of another
// installation on the same Docker engine, labelled with the same executor id, is not its to remove;
// and a second executor of the installation with a running one's id is refused.

import { Kvm } from '@nats-io/kv';
import { describe, expect, it } from 'vitest';
import { aggregateHistory } from '../../src/events/history.ts';
import { LABELS } from '../../src/executor/container-runner.ts';
import { EXECUTOR_BUCKET } from '../../src/executor/executor-id-lease.ts';
import { waitUntil } from '../../src/stack/process-control.ts';
import { TEST_IMAGE, useExecutorHarness } from '../support/executor-harness.ts';
import { newId } from '../support/fixtures.ts';
import { startRole } from '../support/role-process.ts';

const h = useExecutorHarness({ withExecutor: false });

describe('executor crash', () => {
  it('leaves no orphan and no double run after SIGKILL and restart', async () => {
    const executorId = `crash-${newId().slice(0, 8)}`;
    const env = { CV_EXECUTOR_ID: executorId, CV_DISPATCH_ACK_WAIT_SECONDS: '5' };
    const docker = h.env.runtime.docker;
    const containersOf = async (jobId: string) =>
      docker.listContainers({ all: true, filters: { label: [`dev.chronoverse.job=${jobId}`] } });

    let first = startRole('executor', h.env.config, env);
    const wf = await h.createWorkflow('CONTAINER', {
      image: TEST_IMAGE,
      cmd: ['sh', '-c', 'echo started; sleep 4; echo done'],
      timeout: '1m',
    });
    const jobId = await h.runNow(wf);
    await waitUntil('attempt 1 running', async () => (await containersOf(jobId)).length === 1, 30_000);

    // Watch for two containers of the job at once, from now to the end.
    let maxConcurrent = 0;
    let watching = true;
    const watcher = (async () => {
      while (watching) {
        maxConcurrent = Math.max(
          maxConcurrent,
          (await containersOf(jobId)).filter((c) => c.State === 'running').length,
        );
        await new Promise((r) => setTimeout(r, 100));
      }
    })();

    await first.kill('SIGKILL');
    const orphan = (await containersOf(jobId))[0];
    expect(orphan?.Labels['dev.chronoverse.attempt']).toBe('1');

    first = startRole('executor', h.env.config, env);
    const job = await h.waitForFinal(jobId, 60_000);
    watching = false;
    await watcher;
    await first.kill('SIGTERM');

    expect(job.status).toBe('COMPLETED');
    expect(job.attempt).toBe(2);
    expect(maxConcurrent).toBe(1);
    expect(await containersOf(jobId)).toEqual([]);
    const history = await aggregateHistory(h.env.runtime.events, h.userId, 'job', jobId, { limit: 100 });
    const failures = history.entries
      .filter((e) => e.event.type === 'JobFailed')
      .map((e) => e.event.data as { reason: string; failure_kind: string; attempt: number });
    expect(failures).toEqual([
      expect.objectContaining({ attempt: 1, failure_kind: 'SYSTEM', reason: 'executor_lost' }),
    ]);
    expect(history.entries.filter((e) => e.event.type === 'JobStarted')).toHaveLength(2);
  });

  it("leaves alone a running container of another installation's job that carries its executor id", async () => {
    // As two systems on one machine with the default id (<hostname>-<pool>) have it: the other's job
    // is running when this executor starts. Removing it once killed live jobs of a second system.
    const executorId = `shared-${newId().slice(0, 8)}`;
    const docker = h.env.runtime.docker;
    const other = await docker.createContainer({
      Image: TEST_IMAGE,
      Cmd: ['sleep', '60'],
      Labels: {
        [LABELS.managed]: 'true',
        [LABELS.executor]: executorId,
        [LABELS.job]: newId(),
        [LABELS.user]: newId(),
        [LABELS.attempt]: '1',
      },
      HostConfig: { NetworkMode: 'none' },
    });
    try {
      await other.start();
      const executor = startRole('executor', h.env.config, {
        CV_EXECUTOR_ID: executorId,
        CV_LOG_LEVEL: 'info',
      });
      try {
        await executor.waitFor('executor started');
        expect(executor.output()).toContain('recovered_containers":0');
        expect(executor.output()).toContain('whose job this installation does not know');
      } finally {
        await executor.kill('SIGTERM');
      }
      expect((await other.inspect()).State.Running).toBe(true);
    } finally {
      await other.remove({ force: true });
    }
  });

  it('refuses to start a second executor with the id of one that is running', async () => {
    // Were it started, it would take the first one's running containers for orphans and remove them.
    const env = { CV_EXECUTOR_ID: `twice-${newId().slice(0, 8)}`, CV_LOG_LEVEL: 'info' };
    const first = startRole('executor', h.env.config, env);
    try {
      await first.waitFor('executor started');
      const second = startRole('executor', h.env.config, env);
      expect(await second.exited).toBe(1);
      expect(second.output()).toContain(
        `CV_EXECUTOR_ID: an executor with id "${env.CV_EXECUTOR_ID}" is running already`,
      );
      expect(first.child.exitCode).toBeNull();
    } finally {
      await first.kill('SIGTERM');
    }
    // Stopped cleanly, it gave the id back (its entry deleted, not left to lapse), so the next one,
    // wherever it runs, starts at once.
    const kv = await new Kvm(h.env.runtime.nats.nc).open(EXECUTOR_BUCKET);
    expect((await kv.get(env.CV_EXECUTOR_ID))?.operation).toBe('DEL');
    const next = startRole('executor', h.env.config, env);
    try {
      await next.waitFor('executor started', 5000);
    } finally {
      await next.kill('SIGTERM');
    }
  });
});
