import { describe, expect, it } from 'vitest';
import { formatDuration, parseDuration } from './duration.ts';

describe('durations', () => {
  it('parses the original Go-style strings', () => {
    expect(parseDuration('10s')).toBe(10_000);
    expect(parseDuration('5m')).toBe(300_000);
    expect(parseDuration('1h30m')).toBe(5_400_000);
    expect(parseDuration('500ms')).toBe(500);
    expect(parseDuration('1.5s')).toBe(1500);
  });
  it('refuses anything else', () => {
    for (const bad of ['', '10', 's', '10 s', '-1s', '1d', '10sec', '1h 2m'])
      expect(parseDuration(bad)).toBeUndefined();
  });
  it('formats back in the largest whole unit', () => {
    expect(formatDuration(300_000)).toBe('5m');
    expect(formatDuration(1500)).toBe('1500ms');
  });
});
