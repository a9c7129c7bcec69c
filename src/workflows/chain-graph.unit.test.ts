import { describe, expect, it } from 'vitest';
import { chainCycle } from './chain-graph.ts';

describe('chainCycle', () => {
  const graph = new Map([
    ['b', { on_success: ['c'] }],
    ['c', { on_end: ['d'] }],
    ['d', null],
  ]);

  it('finds none in a chain that ends', () => {
    expect(chainCycle('a', { on_success: ['b'] }, graph)).toBeUndefined();
  });

  it('names the cycle a new edge closes, from the saved workflow back to it', () => {
    expect(chainCycle('d', { on_failure: ['b'] }, graph)).toEqual(['d', 'b', 'c', 'd']);
  });

  it('counts every outcome, and a workflow naming itself', () => {
    expect(chainCycle('a', { on_end: ['a'] }, graph)).toEqual(['a', 'a']);
    const g = new Map([
      ['x', { on_failure: ['y'] }],
      ['y', { on_success: ['a'] }],
    ]);
    expect(chainCycle('a', { on_success: ['z'], on_end: ['x'] }, g)).toEqual(['a', 'x', 'y', 'a']);
  });

  it('ends on a diamond without a cycle', () => {
    const g = new Map([
      ['b', { on_success: ['d'] }],
      ['c', { on_success: ['d'] }],
      ['d', null],
    ]);
    expect(chainCycle('a', { on_success: ['b', 'c'] }, g)).toBeUndefined();
  });
});
