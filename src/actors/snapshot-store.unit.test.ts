import { describe, expect, it } from 'vitest';
import { assign, setup } from 'xstate';
import { machineFingerprint, usableSnapshot } from './snapshot-store.ts';
import { workflowMachine } from './workflow-machine.ts';

/** A counter whose increment is `step`: two builds differ only inside an assign's function. */
function counter(step: 1 | 2) {
  return setup({ types: { context: {} as { n: number }, events: {} as { type: 'inc' } } }).createMachine({
    context: { n: 0 },
    on: {
      inc: {
        actions: assign({ n: step === 1 ? ({ context }) => context.n + 1 : ({ context }) => context.n + 2 }),
      },
    },
  });
}

describe('machineFingerprint', () => {
  it('is the same for the same definition and differs when how an event is folded changes', () => {
    expect(machineFingerprint(workflowMachine)).toMatch(/^[0-9a-f]{32}$/);
    expect(machineFingerprint(counter(1))).toBe(machineFingerprint(counter(1)));
    expect(machineFingerprint(counter(1))).not.toBe(machineFingerprint(counter(2)));
    expect(machineFingerprint(counter(1))).not.toBe(machineFingerprint(workflowMachine));
  });
});

describe('usableSnapshot', () => {
  const fingerprint = machineFingerprint(workflowMachine);
  const snapshot = { version: 10, fingerprint, lastEventId: 'e-10', state: { value: {}, context: {} } };

  it('takes a snapshot of this machine at or below the subject last sequence', () => {
    expect(usableSnapshot(snapshot, workflowMachine, 10)).toBe(snapshot);
    expect(usableSnapshot(snapshot, workflowMachine, 11)).toBe(snapshot);
  });

  it('refuses one newer than the subject, of another machine, or without a version or event id', () => {
    expect(usableSnapshot(undefined, workflowMachine, 10)).toBeUndefined();
    expect(usableSnapshot(snapshot, workflowMachine, 9)).toBeUndefined();
    expect(usableSnapshot({ ...snapshot, fingerprint: 'other' }, workflowMachine, 10)).toBeUndefined();
    expect(usableSnapshot({ ...snapshot, version: 0 }, workflowMachine, 10)).toBeUndefined();
    expect(usableSnapshot({ ...snapshot, version: 1.5 }, workflowMachine, 10)).toBeUndefined();
    expect(usableSnapshot({ ...snapshot, lastEventId: '' }, workflowMachine, 10)).toBeUndefined();
  });
});
