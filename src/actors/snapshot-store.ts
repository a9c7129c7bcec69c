// Which persisted actor snapshots (src/events/snapshot-bucket.ts) a process may trust. They let a cold
// process load an actor whose log is long (a workflow that fires every second has ~86,000 commits a
// day) by reading one snapshot and the commits after it instead of its whole subject. A snapshot is only a shortcut, never the truth: it names the version
// it stands for, the commits after it are always folded in, and a snapshot made by another machine
// definition (the fingerprint differs) or newer than the subject is ignored.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import type { AnyStateMachine } from 'xstate';
import type { StoredSnapshot } from '../events/snapshot-bucket.ts';

const fingerprints = new WeakMap<AnyStateMachine, string>();

/**
 * The text everything a machine folds with is written in: its module (the actor machines import
 * nothing but types and xstate, so a helper an `assign` calls lives there too) and xstate's version.
 * Read once; where the sources are not beside the code (a bundle) only the definition counts.
 */
const foldSource = (() => {
  let text: string | undefined;
  return () => {
    if (text !== undefined) return text;
    const parts: string[] = [];
    for (const file of ['workflow-machine.ts', 'job-machine.ts', 'user-machine.ts']) {
      try {
        parts.push(readFileSync(new URL(`./${file}`, import.meta.url), 'utf8'));
      } catch {
        parts.push(`${file}: not found`);
      }
    }
    try {
      parts.push(createRequire(import.meta.url)('xstate/package.json').version);
    } catch {
      parts.push('xstate: unknown');
    }
    text = parts.join('\n');
    return text;
  };
})();

/**
 * A digest of a machine's definition, the source of its guards and actions included, and of the
 * actor modules' text: a change to how events are folded (a new context field, a changed `assign` or
 * a helper it calls, a new xstate) gives a new fingerprint, so snapshots folded by the old code are
 * not trusted by the new. Any edit of an actor module costs one full replay per workflow, no more.
 */
export function machineFingerprint(machine: AnyStateMachine): string {
  let fingerprint = fingerprints.get(machine);
  if (!fingerprint) {
    const definition = describe({ config: machine.config, implementations: machine.implementations });
    fingerprint = createHash('sha256').update(definition).update(foldSource()).digest('hex').slice(0, 32);
    fingerprints.set(machine, fingerprint);
  }
  return fingerprint;
}

/**
 * A stable text of a definition. A function is its source plus its own properties: xstate's `assign`
 * is a generic wrapper whose `assignment` property holds the code that matters.
 */
function describe(value: unknown, seen = new Set<unknown>()): string {
  if (value === null || (typeof value !== 'object' && typeof value !== 'function'))
    return JSON.stringify(value) ?? 'undefined';
  if (seen.has(value)) return '"<cycle>"';
  seen.add(value);
  const entries = Object.keys(value)
    .sort()
    .map((k) => `${JSON.stringify(k)}:${describe((value as Record<string, unknown>)[k], seen)}`);
  seen.delete(value);
  if (typeof value === 'function') return `fn(${JSON.stringify(value.toString())}){${entries.join(',')}}`;
  return Array.isArray(value) ? `[${entries.join(',')}]` : `{${entries.join(',')}}`;
}

/** The snapshot to start a load from, if `stored` is one this machine may use for a subject at `last`. */
export function usableSnapshot(
  stored: StoredSnapshot | undefined,
  machine: AnyStateMachine,
  last: number,
): StoredSnapshot | undefined {
  if (!stored || !Number.isSafeInteger(stored.version) || stored.version <= 0) return undefined;
  if (typeof stored.lastEventId !== 'string' || stored.lastEventId === '') return undefined;
  if (stored.version > last) return undefined;
  return stored.fingerprint === machineFingerprint(machine) ? stored : undefined;
}
