import { describe, expect, expectTypeOf, it } from 'vitest';
import type { WorkflowSchedule } from '../events/workflow-events.ts';
import {
  DEFAULT_DST_POLICY,
  dstPolicyOf,
  parseInstant,
  type ScheduleSpec,
  scheduleSpecProblem,
} from './schedule.ts';

describe('ScheduleSpec', () => {
  it('accepts every stored WorkflowSchedule as it is', () => {
    expectTypeOf<WorkflowSchedule>().toExtend<ScheduleSpec>();
    const stored: WorkflowSchedule[] = [
      { type: 'interval', minutes: 5 },
      { type: 'cron', cron: '*/5 * * * *', timezone: 'Europe/Berlin' },
      { type: 'at', at: '2026-05-01T10:00:00Z' },
    ];
    for (const spec of stored) expect(scheduleSpecProblem(spec)).toBeUndefined();
  });
  it('fills the DST policy with its defaults: shift, once', () => {
    expect(DEFAULT_DST_POLICY).toEqual({ nonexistent: 'shift', repeated: 'once' });
    expect(dstPolicyOf({ type: 'cron', cron: '* * * * *', timezone: 'UTC' })).toEqual({
      nonexistent: 'shift',
      repeated: 'once',
    });
    expect(
      dstPolicyOf({ type: 'cron', cron: '* * * * *', timezone: 'UTC', dst: { repeated: 'twice' } }),
    ).toEqual({
      nonexistent: 'shift',
      repeated: 'twice',
    });
    expect(dstPolicyOf({ type: 'interval', minutes: 1, dst: { nonexistent: 'skip' } })).toEqual({
      nonexistent: 'skip',
      repeated: 'once',
    });
  });
});

describe('parseInstant', () => {
  it('reads RFC 3339 timestamps with an offset', () => {
    expect(parseInstant('2026-03-29T01:00:00Z')).toBe(Date.UTC(2026, 2, 29, 1));
    expect(parseInstant('2026-03-29T03:00:00+02:00')).toBe(Date.UTC(2026, 2, 29, 1));
    expect(parseInstant('2026-03-29T03:00:00.250-00:30')).toBe(Date.UTC(2026, 2, 29, 3, 30, 0, 250));
    expect(parseInstant('2028-02-29T00:00:00z')).toBe(Date.UTC(2028, 1, 29));
  });
  it('refuses what Date.parse would bend: no offset, impossible dates and times', () => {
    expect(parseInstant('2026-03-29T01:00:00')).toBeUndefined();
    expect(parseInstant('2026-03-29')).toBeUndefined();
    expect(parseInstant('2026-02-30T00:00:00Z')).toBeUndefined();
    expect(parseInstant('2027-02-29T00:00:00Z')).toBeUndefined();
    expect(parseInstant('2026-03-29T24:00:00Z')).toBeUndefined();
    expect(parseInstant('2026-03-29T23:59:60Z')).toBeUndefined();
    expect(parseInstant('2026-03-29T01:00:00+24:00')).toBeUndefined();
    expect(parseInstant('yesterday')).toBeUndefined();
  });
});

describe('scheduleSpecProblem', () => {
  it('accepts the new kinds and options', () => {
    const ok: ScheduleSpec[] = [
      { type: 'at', at: '2026-05-01T10:00:00+02:00', timezone: 'Europe/Berlin' },
      { type: 'interval', minutes: 10_080, start_at: '2026-01-01T00:00:00Z', end_at: '2026-12-31T00:00:00Z' },
      {
        type: 'cron',
        cron: '0 30 2 * * *',
        timezone: 'Australia/Lord_Howe',
        dst: { nonexistent: 'skip', repeated: 'twice' },
        anchor: '2026-01-01T00:00:00Z',
      },
    ];
    for (const spec of ok) expect(scheduleSpecProblem(spec)).toBeUndefined();
  });
  it('says why a spec cannot run', () => {
    expect(scheduleSpecProblem({ type: 'interval', minutes: 0 })).toMatch(/1 to 10080/);
    expect(scheduleSpecProblem({ type: 'interval', minutes: 10_081 })).toMatch(/1 to 10080/);
    expect(scheduleSpecProblem({ type: 'interval', minutes: 2.5 })).toMatch(/integer/);
    expect(scheduleSpecProblem({ type: 'interval', minutes: 5, timezone: 'Mars/Olympus' })).toBe(
      'unknown time zone "Mars/Olympus"',
    );
    expect(scheduleSpecProblem({ type: 'cron', cron: '* * * *', timezone: 'UTC' })).toMatch(/5 or 6 fields/);
    expect(scheduleSpecProblem({ type: 'cron', cron: '* * * * *', timezone: 'Nowhere/Here' })).toMatch(
      /unknown time zone/,
    );
    expect(scheduleSpecProblem({ type: 'at', at: '2026-05-01T10:00:00' })).toMatch(/^at must be an RFC 3339/);
    expect(scheduleSpecProblem({ type: 'interval', minutes: 5, start_at: 'soon' })).toMatch(/^start_at must/);
    expect(scheduleSpecProblem({ type: 'interval', minutes: 5, anchor: '2026-02-30T00:00:00Z' })).toMatch(
      /^anchor must/,
    );
    expect(
      scheduleSpecProblem({
        type: 'interval',
        minutes: 5,
        start_at: '2026-02-01T00:00:00Z',
        end_at: '2026-01-01T00:00:00Z',
      }),
    ).toBe('end_at is before start_at');
    const badDst = { nonexistent: 'later' } as unknown as ScheduleSpec['dst'];
    expect(scheduleSpecProblem({ type: 'cron', cron: '* * * * *', timezone: 'UTC', dst: badDst })).toMatch(
      /shift or skip/,
    );
    const badRepeat = { repeated: 'thrice' } as unknown as ScheduleSpec['dst'];
    expect(scheduleSpecProblem({ type: 'cron', cron: '* * * * *', timezone: 'UTC', dst: badRepeat })).toMatch(
      /once or twice/,
    );
  });
});
