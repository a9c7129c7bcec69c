import { describe, expect, it } from 'vitest';
import type { EventEnvelope } from '../events/envelope.ts';
import { combinedReactor, type Reactor } from './reactor.ts';

const event = (type: string) => ({ type, data: {} }) as unknown as EventEnvelope;

describe('combinedReactor', () => {
  it('gives each reactor only the event types it names, in order, and names their union', async () => {
    const seen: string[] = [];
    const reactor = (name: string, types: string[]): Reactor => ({
      name,
      subjects: ['cv.evt.*.job.>'],
      eventTypes: new Set(types),
      async react(e, sequence) {
        seen.push(`${name}:${e.type}@${sequence}`);
      },
    });
    const both = combinedReactor('both', [reactor('a', ['JobScheduled']), reactor('b', ['JobQueued'])]);
    expect([...(both.eventTypes ?? [])].sort()).toEqual(['JobQueued', 'JobScheduled']);
    expect(both.subjects).toEqual(['cv.evt.>']);
    for (const type of ['JobCreated', 'JobQueued', 'JobScheduled']) await both.react(event(type), 7);
    expect(seen).toEqual(['b:JobQueued@7', 'a:JobScheduled@7']);
  });

  it('names no event types (reads every commit) when one of its reactors wants them all', () => {
    const all: Reactor = { name: 'all', subjects: ['cv.evt.>'], react: async () => {} };
    const some: Reactor = { ...all, name: 'some', eventTypes: new Set(['JobQueued']) };
    expect(combinedReactor('c', [all, some]).eventTypes).toBeUndefined();
  });

  it('leaves unfinished what its reactors leave unfinished, done when all of them are', async () => {
    let finishA = () => {};
    const a: Reactor = {
      name: 'a',
      subjects: ['cv.evt.>'],
      react: async () => ({ rest: new Promise<void>((r) => (finishA = r)) }),
    };
    const b: Reactor = {
      name: 'b',
      subjects: ['cv.evt.>'],
      react: async () => ({ rest: Promise.resolve() }),
    };
    const none: Reactor = { name: 'none', subjects: ['cv.evt.>'], react: async () => {} };
    expect(await combinedReactor('c', [none]).react(event('JobQueued'), 1)).toBeUndefined();
    const unfinished = await combinedReactor('c', [a, b, none]).react(event('JobQueued'), 1);
    let done = false;
    void unfinished!.rest.then(() => (done = true));
    await new Promise((r) => setTimeout(r, 10));
    expect(done).toBe(false);
    finishA();
    await unfinished!.rest;
    expect(done).toBe(true);
  });

  it('keeps a rest that fails while a later reactor still runs, and fails with it', async () => {
    const failing: Reactor = {
      name: 'failing',
      subjects: ['cv.evt.>'],
      react: async () => ({ rest: Promise.reject(new Error('the record could not be written')) }),
    };
    const slow: Reactor = {
      name: 'slow',
      subjects: ['cv.evt.>'],
      react: async () => {
        // Long enough for an unhandled rejection of the first rest to be reported.
        await new Promise((r) => setTimeout(r, 20));
        return undefined;
      },
    };
    const unfinished = await combinedReactor('c', [failing, slow]).react(event('JobCompleted'), 1);
    await expect(unfinished!.rest).rejects.toThrow('the record could not be written');
  });
});
