import { describe, expect, it } from 'vitest';
import { cronProblem, isValidTimeZone } from './schedule-validation.ts';

describe('schedule validation', () => {
  it('accepts 5- and 6-field expressions in a real zone', () => {
    expect(cronProblem('*/5 * * * *', 'Europe/Berlin')).toBeUndefined();
    expect(cronProblem('*/10 * * * * *', 'UTC')).toBeUndefined();
    expect(cronProblem('30 2 * * 1-5', 'Australia/Lord_Howe')).toBeUndefined();
  });
  it('says why an expression or zone is refused', () => {
    expect(cronProblem('* * * *', 'UTC')).toMatch(/5 or 6 fields/);
    expect(cronProblem('61 * * * *', 'UTC')).toBeTypeOf('string');
    expect(cronProblem('* * * * *', 'Mars/Olympus')).toBe('unknown time zone "Mars/Olympus"');
    expect(cronProblem('0 0 30 2 *', 'UTC')).toBeTypeOf('string');
  });
  it('knows IANA zones', () => {
    expect(isValidTimeZone('America/New_York')).toBe(true);
    expect(isValidTimeZone('Nowhere/Here')).toBe(false);
  });
});
