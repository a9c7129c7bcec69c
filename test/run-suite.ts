// `npm test`'s runner (after `stack up`): the unit and integration projects, then the end-to-end
// files in two vitest processes side by side, one file of each at a time: `e2e` (mostly busy: the
// browser, the CLI, the rolling restart) and `e2e-waiting` (mostly waiting on real time: outages,
// elections, per-second crons; the list is in vitest.config.ts). One vitest process cannot do this:
// projects that run together share one worker limit, so any two end-to-end files could meet, two
// busy ones too. With CV_TEST_RESULTS_JSON set, the reports of the three runs are merged into that
// file. Any arguments go to a single `vitest run` as they are (a filter, a project).
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';

const vitest = join(import.meta.dirname, '..', 'node_modules', '.bin', 'vitest');

interface JsonReport {
  numPassedTests: number;
  numFailedTests: number;
  numPendingTests: number;
  numTotalTests: number;
  numRuntimeErrorTestSuites?: number;
  startTime: number;
  success: boolean;
  testResults: unknown[];
  [field: string]: unknown;
}

function run(args: readonly string[], env: NodeJS.ProcessEnv, prefix?: string): Promise<number> {
  const child: ChildProcess = spawn(vitest, ['run', ...args], {
    env: { ...process.env, ...env },
    stdio: prefix ? ['ignore', 'pipe', 'pipe'] : 'inherit',
  });
  if (prefix) {
    for (const stream of [child.stdout, child.stderr]) {
      if (!stream) continue;
      const target = stream === child.stdout ? process.stdout : process.stderr;
      createInterface({ input: stream }).on('line', (line) => target.write(`${prefix}${line}\n`));
    }
  }
  return new Promise((resolve) => child.on('exit', (code, signal) => resolve(signal ? 1 : (code ?? 1))));
}

function merge(files: readonly string[]): JsonReport {
  const merged: JsonReport = {
    numPassedTests: 0,
    numFailedTests: 0,
    numPendingTests: 0,
    numTotalTests: 0,
    numRuntimeErrorTestSuites: 0,
    startTime: Number.POSITIVE_INFINITY,
    success: true,
    testResults: [],
  };
  for (const file of files) {
    let report: JsonReport;
    try {
      report = JSON.parse(readFileSync(file, 'utf8')) as JsonReport;
    } catch {
      // A run that wrote no report failed as a whole: counted, never passed over.
      merged.numRuntimeErrorTestSuites = (merged.numRuntimeErrorTestSuites ?? 0) + 1;
      merged.success = false;
      continue;
    }
    merged.numPassedTests += report.numPassedTests;
    merged.numFailedTests += report.numFailedTests;
    merged.numPendingTests += report.numPendingTests;
    merged.numTotalTests += report.numTotalTests;
    merged.numRuntimeErrorTestSuites =
      (merged.numRuntimeErrorTestSuites ?? 0) + (report.numRuntimeErrorTestSuites ?? 0);
    merged.startTime = Math.min(merged.startTime, report.startTime);
    merged.success &&= report.success;
    merged.testResults.push(...report.testResults);
  }
  return merged;
}

async function main(): Promise<number> {
  const args = process.argv.slice(2);
  if (args.length > 0) return run(args, {});

  const report = process.env.CV_TEST_RESULTS_JSON;
  const dir = mkdtempSync(join(tmpdir(), 'cv-suite-'));
  const part = (name: string) => (report ? { CV_TEST_RESULTS_JSON: join(dir, `${name}.json`) } : {});
  const started = Date.now();
  const seconds = (since: number) => `${Math.round((Date.now() - since) / 1000)} s`;

  const codes = [await run(['--project', 'unit', '--project', 'int'], part('unit-int'))];
  const unitAndInt = seconds(started);
  const e2eStarted = Date.now();
  codes.push(
    ...(await Promise.all([
      run(['--project', 'e2e'], part('e2e')),
      run(['--project', 'e2e-waiting'], part('e2e-waiting'), '[e2e-waiting] '),
    ])),
  );
  console.log(`suite: unit + int ${unitAndInt}, end-to-end ${seconds(e2eStarted)}, all ${seconds(started)}`);

  if (report) {
    writeFileSync(
      report,
      JSON.stringify(merge(['unit-int', 'e2e', 'e2e-waiting'].map((n) => join(dir, `${n}.json`)))),
    );
  }
  rmSync(dir, { recursive: true, force: true });
  return codes.every((c) => c === 0) ? 0 : 1;
}

process.exitCode = await main();
