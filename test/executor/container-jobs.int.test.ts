// CONTAINER jobs on the real Docker engine, through the real dispatch queue: output, failures of each
// kind, isolation, limits, cancel.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { jobDecider } from '../../src/actors/job-decider.ts';
import { waitUntil } from '../../src/stack/process-control.ts';
import { TEST_IMAGE, useExecutorHarness } from '../support/executor-harness.ts';
import { newId } from '../support/fixtures.ts';

const h = useExecutorHarness();

async function run(cmd: string, payload: Record<string, unknown> = {}) {
  const wf = await h.createWorkflow('CONTAINER', { image: TEST_IMAGE, cmd: ['sh', '-c', cmd], ...payload });
  const jobId = await h.runNow(wf);
  return { jobId, job: await h.waitForFinal(jobId) };
}

describe('CONTAINER jobs', () => {
  it('succeed with their output in order, per stream, and the image digest recorded', async () => {
    const { jobId, job } = await run('for i in 1 2 3 4 5; do echo "line $i"; done; echo "to stderr" >&2');
    expect(job).toMatchObject({ status: 'COMPLETED', exit_code: 0 });
    expect(job.image_digest).toMatch(/^sha256:/);
    const lines = await h.logs(jobId);
    expect(lines.filter((l) => l.stream === 'stdout').map((l) => l.line)).toEqual([
      'line 1',
      'line 2',
      'line 3',
      'line 4',
      'line 5',
    ]);
    expect(lines.filter((l) => l.stream === 'stderr').map((l) => l.line)).toEqual(['to stderr']);
    expect(lines.map((l) => l.seq)).toEqual([1, 2, 3, 4, 5, 6]);
  });

  it('fail as USER on a non-zero exit, with the code', async () => {
    const { job } = await run('echo bye; exit 3');
    expect(job).toMatchObject({
      status: 'FAILED',
      failure_kind: 'USER',
      failure_reason: 'exit_code',
      exit_code: 3,
    });
  });

  it('are killed at their timeout and fail with reason timeout', async () => {
    const started = Date.now();
    const { job } = await run('sleep 30', { timeout: '1s' });
    expect(job).toMatchObject({ status: 'FAILED', failure_kind: 'USER', failure_reason: 'timeout' });
    expect(Date.now() - started).toBeLessThan(15_000);
  });

  it('are OOM-killed at their memory limit', async () => {
    // Doubles a shell variable until the 16 MiB limit kills the container.
    const { job } = await run('x=aaaaaaaaaaaaaaaa; while true; do x="$x$x"; done', {
      resources: { memory_mb: 16 },
    });
    expect(job).toMatchObject({ status: 'FAILED', failure_kind: 'USER', failure_reason: 'oom' });
  });

  it('end as a USER failure when a fork bomb hits the pids limit', async () => {
    const started = Date.now();
    const { jobId, job } = await run(
      'i=0; while [ $i -lt 200 ]; do sleep 30 & i=$((i+1)); done; echo "forked $i"',
      {
        resources: { pids: 16 },
        timeout: '20s',
      },
    );
    expect(job).toMatchObject({ status: 'FAILED', failure_kind: 'USER', failure_reason: 'exit_code' });
    expect(Date.now() - started).toBeLessThan(15_000);
    const lines = await h.logs(jobId);
    expect(lines.some((l) => l.stream === 'stderr' && /fork/i.test(l.line))).toBe(true);
    expect(lines.some((l) => l.line === 'forked 200')).toBe(false);
  });

  it('cannot reach the network, write the root file system, or see host files', async () => {
    const { jobId, job } = await run(
      [
        'id -u',
        'nc -w 2 1.1.1.1 53 </dev/null && echo NET_OPEN || echo NET_BLOCKED',
        'ip -o link 2>/dev/null | grep -v " lo:" | grep -c ":" || true',
        'touch /etc/x 2>/dev/null && echo ROOT_WRITABLE || echo ROOT_READONLY',
        'touch /tmp/x && echo TMP_WRITABLE',
        'ls /work /root /var/run/docker.sock 2>/dev/null | head -1 || true',
        'grep -c "" /proc/self/status >/dev/null && grep CapEff /proc/self/status',
      ].join('; '),
    );
    expect(job.status).toBe('COMPLETED');
    const out = (await h.logs(jobId)).filter((l) => l.stream === 'stdout').map((l) => l.line);
    expect(out[0]).toBe('65534');
    expect(out).toContain('NET_BLOCKED');
    expect(out).toContain('ROOT_READONLY');
    expect(out).toContain('TMP_WRITABLE');
    expect(out.find((l) => l.startsWith('CapEff'))).toMatch(/CapEff:\s+0+$/);
    expect(out.some((l) => l.includes('docker.sock'))).toBe(false);
  });

  it('can write to /tmp as the non-root user even when the image has a /tmp of mode 755', async () => {
    const image = 'chronoverse/busybox-tmp755:test';
    const context = mkdtempSync(join(tmpdir(), 'cv-tmp755-'));
    try {
      writeFileSync(join(context, 'Dockerfile'), `FROM ${TEST_IMAGE}\nRUN chmod 0755 /tmp\n`);
      const docker = h.env.runtime.docker;
      const stream = await docker.buildImage(
        { context, src: ['Dockerfile'] },
        { t: image, networkmode: 'none' },
      );
      await new Promise((resolve, reject) =>
        docker.modem.followProgress(stream, (err, out) => (err ? reject(err) : resolve(out))),
      );
      const inspected = await docker.getImage(image).inspect();
      expect(inspected.Id).toMatch(/^sha256:/);
    } finally {
      rmSync(context, { recursive: true, force: true });
    }
    const wf = await h.createWorkflow('CONTAINER', {
      image,
      cmd: ['sh', '-c', 'id -u; echo scratch > /tmp/out && cat /tmp/out; stat -c %u /tmp'],
    });
    const jobId = await h.runNow(wf);
    const job = await h.waitForFinal(jobId);
    const out = (await h.logs(jobId)).map((l) => `${l.stream} ${l.line}`);
    expect(job.status, out.join('\n')).toBe('COMPLETED');
    expect(out).toEqual(['stdout 65534', 'stdout scratch', 'stdout 65534']);
  });

  it('ship output full of control characters without getting stuck', async () => {
    // 2 MiB of NUL: 16 KiB lines that JSON encodes six times larger.
    const { jobId, job } = await run('head -c 2097152 /dev/zero; echo; echo done');
    expect(job.status).toBe('COMPLETED');
    const lines = await h.logs(jobId);
    expect(lines.at(-1)?.line).toBe('done');
    expect(lines.slice(0, -1).reduce((n, l) => n + Buffer.byteLength(l.line), 0)).toBe(2_097_152);
  });

  it('stop within 2 seconds when canceled', async () => {
    const wf = await h.createWorkflow('CONTAINER', {
      image: TEST_IMAGE,
      cmd: ['sh', '-c', 'echo started; sleep 60'],
    });
    const jobId = await h.runNow(wf);
    await waitUntil('running', async () => (await h.logs(jobId)).some((l) => l.line === 'started'), 20_000);
    const canceledAt = Date.now();
    await h.env.runtime.commands.handle(jobDecider, {
      commandId: newId(),
      userId: h.userId,
      aggregateId: jobId,
      command: { type: 'CancelJob', data: { reason: 'test' } },
    });
    const docker = h.env.runtime.docker;
    await waitUntil(
      'container gone',
      async () =>
        (await docker.listContainers({ all: true, filters: { label: [`dev.chronoverse.job=${jobId}`] } }))
          .length === 0,
      10_000,
    );
    expect(Date.now() - canceledAt).toBeLessThan(2000);
    expect((await h.waitForFinal(jobId)).status).toBe('CANCELED');
  });
});
