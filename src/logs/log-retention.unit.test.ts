import { describe, expect, it } from 'vitest';
import { expiredPartitions } from './log-retention.ts';

describe('log retention', () => {
  it('drops only days wholly older than the limit', () => {
    const now = new Date('2026-11-27T10:00:00Z');
    expect(expiredPartitions(['20261025', '20261027', '20261028', '20261127', 'junk'], now, 30)).toEqual([
      '20261025',
      '20261027',
    ]);
  });
});
