// A setup file of the projects that start roles as processes: when a test fails, what those roles
// printed meanwhile (their warnings and errors) is shown under it. A CONTAINER job that never ended
// under load once failed two end-to-end tests whose roles' logs were gone with the test.
import { beforeEach } from 'vitest';
import { unreportedRoleOutput } from './role-process.ts';

/** Whether a test of this file has run (setup files run once per test file). */
let earlierTest = false;

beforeEach(({ onTestFailed }) => {
  // What earlier tests' roles printed belongs to them; the first test's failure also shows what the
  // roles printed while starting.
  if (earlierTest) unreportedRoleOutput();
  earlierTest = true;
  onTestFailed(() => {
    const output = unreportedRoleOutput();
    if (output) console.error(`what the roles printed during this test:\n${output}`);
  });
});
