import { describe, expect, it } from 'vitest';
import { ValidationError } from '../errors.ts';
import { MAX_BUCKETS, seriesPoints, seriesRange } from './analytics-series.ts';

const now = new Date('2026-12-06T10:17:42.000Z');

describe('seriesRange', () => {
  it('defaults to the last day of hours, ending with the current hour', () => {
    const r = seriesRange({ bucket: 'hour' }, now);
    expect(r.to.toISOString()).toBe('2026-12-06T11:00:00.000Z');
    expect(r.from.toISOString()).toBe('2026-12-05T11:00:00.000Z');
    expect(r.bucketSeconds).toBe(3600);
  });

  it('defaults to the last 30 days of days, in UTC', () => {
    const r = seriesRange({ bucket: 'day' }, now);
    expect(r.to.toISOString()).toBe('2026-12-07T00:00:00.000Z');
    expect(r.from.toISOString()).toBe('2026-11-07T00:00:00.000Z');
  });

  it('aligns a given range outward to whole buckets', () => {
    const r = seriesRange(
      { bucket: 'hour', from: new Date('2026-12-01T08:30:00Z'), to: new Date('2026-12-01T10:00:00Z') },
      now,
    );
    expect([r.from.toISOString(), r.to.toISOString()]).toEqual([
      '2026-12-01T08:00:00.000Z',
      '2026-12-01T10:00:00.000Z',
    ]);
  });

  it('refuses a reversed range and one over the cap, naming the cap', () => {
    expect(() =>
      seriesRange(
        { bucket: 'hour', from: new Date('2026-12-02T00:00:00Z'), to: new Date('2026-12-01T00:00:00Z') },
        now,
      ),
    ).toThrow(ValidationError);
    try {
      seriesRange({ bucket: 'hour', from: new Date('2026-01-01T00:00:00Z'), to: now }, now);
      expect.unreachable();
    } catch (err) {
      expect((err as ValidationError).code).toBe('range_too_large');
      expect((err as ValidationError).message).toContain(String(MAX_BUCKETS));
    }
  });
});

describe('seriesPoints', () => {
  it('answers one point per bucket, zero where nothing ran, with the log lines of each', () => {
    const range = seriesRange(
      { bucket: 'hour', from: new Date('2026-12-01T00:00:00Z'), to: new Date('2026-12-01T03:00:00Z') },
      now,
    );
    const at1 = Date.parse('2026-12-01T01:00:00Z') / 1000;
    const points = seriesPoints(
      range,
      [
        {
          at: at1,
          completed: 3,
          failed: 1,
          canceled: 0,
          active: 0,
          duration_p50_ms: 120,
          duration_p95_ms: 400,
          lateness_p50_ms: 30,
          lateness_p95_ms: 90,
        },
      ],
      new Map([[at1 + 3600, 42]]),
    );
    expect(points.map((p) => p.at)).toEqual([
      '2026-12-01T00:00:00.000Z',
      '2026-12-01T01:00:00.000Z',
      '2026-12-01T02:00:00.000Z',
    ]);
    expect(points[0]).toMatchObject({ completed: 0, failed: 0, duration_p50_ms: null, log_lines: 0 });
    expect(points[1]).toMatchObject({ completed: 3, failed: 1, duration_p95_ms: 400, lateness_p50_ms: 30 });
    expect(points[2]?.log_lines).toBe(42);
  });
});
