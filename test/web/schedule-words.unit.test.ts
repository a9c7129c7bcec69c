import { describe, expect, it } from 'vitest';
import { cronWords, intervalWords, scheduleWords } from '../../src/web/schedule-words.ts';

describe('schedules in words', () => {
  it('says an interval in its largest whole unit', () => {
    expect(intervalWords(1)).toBe('Every minute');
    expect(intervalWords(15)).toBe('Every 15 minutes');
    expect(intervalWords(60)).toBe('Every hour');
    expect(intervalWords(90)).toBe('Every 90 minutes');
    expect(intervalWords(120)).toBe('Every 2 hours');
    expect(intervalWords(1440)).toBe('Every day');
    expect(intervalWords(2880)).toBe('Every 2 days');
  });

  it('says the common cron shapes', () => {
    expect(cronWords('* * * * *')).toBe('Every minute');
    expect(cronWords('*/15 * * * *')).toBe('Every 15 minutes');
    expect(cronWords('5 * * * *')).toBe('Every hour at minute 5');
    expect(cronWords('0 */6 * * *')).toBe('Every 6 hours at minute 0');
    expect(cronWords('30 9 * * *')).toBe('Every day at 09:30');
    expect(cronWords('0 8 * * 1-5')).toBe('Every Monday to Friday at 08:00');
    expect(cronWords('0 8 * * MON-FRI')).toBe('Every Monday to Friday at 08:00');
    expect(cronWords('0 18 * * 0,6')).toBe('Every Sunday, Saturday at 18:00');
    expect(cronWords('0 0 1 * *')).toBe('On day 1 of every month at 00:00');
  });

  it('leaves any other expression to itself', () => {
    expect(cronWords('*/10 * * * * *')).toBeUndefined();
    expect(cronWords('0 0 1 1 *')).toBeUndefined();
    expect(cronWords('0 9-17 * * *')).toBeUndefined();
    expect(cronWords('0 8 * * 1-3')).toBeUndefined();
  });

  it('names the time zone of a cron schedule', () => {
    expect(scheduleWords({ type: 'cron', cron: '30 9 * * *', timezone: 'Europe/Berlin' })).toBe(
      'Every day at 09:30 (Europe/Berlin)',
    );
    expect(scheduleWords({ type: 'cron', cron: '0 0 1 1 *', timezone: 'UTC' })).toBe('Cron 0 0 1 1 * (UTC)');
    expect(scheduleWords({ type: 'interval', minutes: 5 })).toBe('Every 5 minutes');
    expect(scheduleWords({ type: 'at', at: '2030-01-01T00:00:00.000Z' })).toBe(
      'Once at 2030-01-01T00:00:00.000Z',
    );
  });
});
