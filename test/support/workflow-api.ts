// Steps many end-to-end tests take through the API: a CONTAINER workflow on the local busybox image,
// built; a run-now; a job waited for until it ends. Each asserts the answer it relies on.
import { expect } from 'vitest';
import { waitUntil } from '../../src/stack/process-control.ts';
import { TEST_IMAGE } from './executor-harness.ts';
import type { ApiClient } from './system.ts';

const FINAL = ['COMPLETED', 'FAILED', 'CANCELED'];

/** A CONTAINER workflow running `cmd` in the test image (rarely firing on its own), once built. */
export async function createContainerWorkflow(
  api: ApiClient,
  name: string,
  cmd: readonly string[],
  options: { timeout?: string; interval?: number; buildWithinMs?: number } = {},
): Promise<string> {
  const res = await api.post<{ id: string }>('/workflows', {
    name,
    kind: 'CONTAINER',
    payload: { image: TEST_IMAGE, cmd, timeout: options.timeout ?? '1m' },
    interval: options.interval ?? 10_080,
  });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  const id = res.body.id;
  await waitUntil(
    `${name} built`,
    async () =>
      (await api.get<{ build_status: string }>(`/workflows/${id}`)).body.build_status === 'COMPLETED',
    options.buildWithinMs ?? 60_000,
  );
  return id;
}

/** Runs the workflow now; its job's id. */
export async function runNow(api: ApiClient, workflowId: string): Promise<string> {
  const res = await api.post<{ job_id: string }>(`/workflows/${workflowId}/jobs/schedule`);
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return res.body.job_id;
}

/** Waits until the job is in one of `statuses` (default: any final one); the status it reached. */
export async function waitForJob(
  api: ApiClient,
  workflowId: string,
  jobId: string,
  statuses: readonly string[] = FINAL,
  withinMs = 60_000,
): Promise<string> {
  let status = '';
  await waitUntil(
    `job ${statuses.join('|')}`,
    async () => {
      status = (await api.get<{ status: string }>(`/workflows/${workflowId}/jobs/${jobId}`)).body.status;
      return statuses.includes(status);
    },
    withinMs,
  );
  return status;
}
