import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { nameBasedUuid } from '../events/name-based-id.ts';
import { jitteredTime, jitterOffsetMs } from './jitter.ts';

describe('jitter', () => {
  it('is the same for the same workflow and tick, whoever computes it', () => {
    const id = '7b0e5d8e-1f0c-4a53-9d6f-3c2b1a0e9f88';
    const a = jitterOffsetMs(id, '2026-12-06T10:00:00.000Z', 60);
    expect(jitterOffsetMs(id, '2026-12-06T10:00:00.000Z', 60)).toBe(a);
    expect(jitteredTime(id, '2026-12-06T10:00:00.000Z', 60)).toBe(
      new Date(Date.parse('2026-12-06T10:00:00.000Z') + a).toISOString(),
    );
  });

  it('is zero without jitter, and within [0, jitter) with it', () => {
    expect(jitterOffsetMs('w', '2026-12-06T10:00:00.000Z', undefined)).toBe(0);
    expect(jitterOffsetMs('w', '2026-12-06T10:00:00.000Z', 0)).toBe(0);
    for (let i = 0; i < 1000; i++) {
      const o = jitterOffsetMs(randomUUID(), '2026-12-06T10:00:00.000Z', 5);
      expect(o).toBeGreaterThanOrEqual(0);
      expect(o).toBeLessThan(5000);
    }
  });

  it('changes from tick to tick of one workflow', () => {
    const id = randomUUID();
    const offsets = new Set(
      Array.from({ length: 50 }, (_, m) =>
        jitterOffsetMs(id, new Date(Date.UTC(2026, 11, 6, 10, m)).toISOString(), 60),
      ),
    );
    expect(offsets.size).toBeGreaterThan(45);
  });

  it('spreads 10,000 workflows on one cron tick evenly over a 60 s jitter, none at the same instant twice', () => {
    const nominal = '2026-12-06T10:00:00.000Z';
    const counts = new Array<number>(60).fill(0);
    const seen = new Set<string>();
    let twice = 0;
    for (let i = 0; i < 10_000; i++) {
      // Fixed ids (name-based UUIDs like the workflows' own), so the test is the same on every run.
      const id = nameBasedUuid(`workflow ${i}`);
      const at = jitteredTime(id, nominal, 60);
      // Each workflow fires this tick once: its one jittered time, the same when asked again.
      if (jitteredTime(id, nominal, 60) !== at) twice++;
      seen.add(id);
      counts[Math.floor(jitterOffsetMs(id, nominal, 60) / 1000)]! += 1;
    }
    expect(twice).toBe(0);
    expect(seen.size).toBe(10_000);
    // Chi-square against uniform over 60 one-second buckets (59 degrees of freedom): 95.6 is the
    // 0.999 quantile of an even spread.
    const expected = 10_000 / 60;
    const chi2 = counts.reduce((s, c) => s + (c - expected) ** 2 / expected, 0);
    expect(chi2).toBeLessThan(95.6);
    expect(Math.min(...counts)).toBeGreaterThan(110);
    expect(Math.max(...counts)).toBeLessThan(225);
    if (process.env.CV_JITTER_HISTOGRAM) console.log(JSON.stringify({ chi2, counts }));
  });
});
