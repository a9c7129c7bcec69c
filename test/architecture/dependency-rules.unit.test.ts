// The layering of src/ (.dependency-cruiser.cjs says which room may import which) holds: dependency-
// cruiser finds no violation. On failure the violations are printed, one import per line.
import { execFile } from 'node:child_process';
import { resolve } from 'node:path';
import { promisify } from 'node:util';
import { expect, it } from 'vitest';

const root = resolve(import.meta.dirname, '../..');

interface Violation {
  readonly from: string;
  readonly to: string;
  readonly rule: { readonly name: string };
  readonly cycle?: readonly { readonly name: string }[];
}

it('src/ keeps its layering: no forbidden import and no cycle', async () => {
  // Through the command line, as `npm run depcruise` runs it; the JSON report is read, not the exit code.
  const { stdout } = await promisify(execFile)(
    process.execPath,
    [
      resolve(root, 'node_modules/dependency-cruiser/bin/dependency-cruiser.mjs'),
      'src',
      'migrations',
      '--config',
      '.dependency-cruiser.cjs',
      '--output-type',
      'json',
    ],
    { cwd: root, maxBuffer: 64 * 1024 * 1024 },
  ).catch((err: { stdout?: string; stderr?: string }) => {
    // A violation exits non-zero; its report is on stdout all the same.
    if (err.stdout) return { stdout: err.stdout };
    throw err;
  });
  const report = JSON.parse(stdout) as {
    summary: { violations: Violation[]; totalCruised: number };
  };
  const lines = report.summary.violations.map(
    (v) =>
      `${v.rule.name}: ${v.from} -> ${v.to}${v.cycle ? ` (cycle: ${v.cycle.map((c) => c.name).join(' -> ')})` : ''}`,
  );
  expect(report.summary.totalCruised).toBeGreaterThan(100);
  expect(lines, lines.join('\n')).toEqual([]);
});
