import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import type { ProbeStep } from '../../test/support/fast-context-probe.ts';

// V8 tells whether an object is in fast mode only to a process started with --allow-natives-syntax,
// so the histories are folded in one (test/support/fast-context-probe.ts).
function probe(): ProbeStep[] {
  const script = fileURLToPath(new URL('../../test/support/fast-context-probe.ts', import.meta.url));
  const run = spawnSync(process.execPath, ['--allow-natives-syntax', '--import', 'tsx', script], {
    encoding: 'utf8',
  });
  if (run.status !== 0) throw new Error(`the probe failed: ${run.stderr}`);
  return JSON.parse(run.stdout) as ProbeStep[];
}

describe('actor contexts', () => {
  it('stay fast objects through every event of a workflow and a job, restored or not', () => {
    const steps = probe();
    expect(steps.length).toBeGreaterThan(20);
    expect(steps.filter((s) => !s.fast)).toEqual([]);
  });
});
