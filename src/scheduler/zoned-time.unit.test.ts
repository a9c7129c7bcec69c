import { describe, expect, it } from 'vitest';
import { nextTransition, previousTransition, transitionsInYear } from './zone-transitions.ts';
import {
  formatInZone,
  formatOffset,
  formatWallTime,
  offsetAt,
  wallEpochToInstants,
  zonedWallTimeToInstants,
} from './zoned-time.ts';

const iso = (dates: Date[]) => dates.map((d) => d.toISOString());
const ms = (text: string) => Date.parse(text);
const H = 3_600_000;

describe('offsetAt', () => {
  it('reads the offset in force at an instant, east positive', () => {
    expect(offsetAt('UTC', ms('2026-07-01T00:00:00Z'))).toBe(0);
    expect(offsetAt('Asia/Tokyo', ms('2026-07-01T00:00:00Z'))).toBe(9 * H);
    expect(offsetAt('Europe/Berlin', ms('2026-01-15T12:00:00Z'))).toBe(1 * H);
    expect(offsetAt('Europe/Berlin', ms('2026-07-15T12:00:00Z'))).toBe(2 * H);
    expect(offsetAt('America/New_York', ms('2026-01-15T12:00:00Z'))).toBe(-5 * H);
    expect(offsetAt('America/St_Johns', ms('2026-01-15T12:00:00Z'))).toBe(-3.5 * H);
    expect(offsetAt('Australia/Lord_Howe', ms('2026-07-15T12:00:00Z'))).toBe(10.5 * H);
    expect(offsetAt('Australia/Lord_Howe', ms('2026-01-15T12:00:00Z'))).toBe(11 * H);
  });
  it('changes exactly at the transition instant', () => {
    expect(offsetAt('Europe/Berlin', ms('2026-03-29T00:59:59.999Z'))).toBe(1 * H);
    expect(offsetAt('Europe/Berlin', ms('2026-03-29T01:00:00Z'))).toBe(2 * H);
  });
  it('reads offsets with seconds (local mean time before standard time)', () => {
    expect(offsetAt('Europe/Berlin', ms('1874-12-07T00:00:00Z'))).toBe((53 * 60 + 28) * 1000);
  });
  it('refuses an unknown zone', () => {
    expect(() => offsetAt('Mars/Olympus', 0)).toThrow(RangeError);
  });
});

describe('zonedWallTimeToInstants', () => {
  it('gives one instant for an ordinary wall time', () => {
    expect(iso(zonedWallTimeToInstants('Europe/Berlin', 2026, 6, 1, 12, 0, 0))).toEqual([
      '2026-06-01T10:00:00.000Z',
    ]);
    expect(iso(zonedWallTimeToInstants('UTC', 2026, 3, 29, 2, 30, 0))).toEqual(['2026-03-29T02:30:00.000Z']);
    expect(iso(zonedWallTimeToInstants('Asia/Tokyo', 2026, 3, 29, 2, 30, 0))).toEqual([
      '2026-03-28T17:30:00.000Z',
    ]);
  });
  it('gives none in a spring-forward gap (Berlin 2026-03-29 02:00–03:00)', () => {
    expect(zonedWallTimeToInstants('Europe/Berlin', 2026, 3, 29, 2, 0, 0)).toEqual([]);
    expect(zonedWallTimeToInstants('Europe/Berlin', 2026, 3, 29, 2, 30, 0)).toEqual([]);
    expect(zonedWallTimeToInstants('Europe/Berlin', 2026, 3, 29, 2, 59, 59)).toEqual([]);
    expect(iso(zonedWallTimeToInstants('Europe/Berlin', 2026, 3, 29, 1, 59, 59))).toEqual([
      '2026-03-29T00:59:59.000Z',
    ]);
    expect(iso(zonedWallTimeToInstants('Europe/Berlin', 2026, 3, 29, 3, 0, 0))).toEqual([
      '2026-03-29T01:00:00.000Z',
    ]);
  });
  it('gives two, earliest first, in a fall-back overlap (Berlin 2026-10-25 02:00–03:00)', () => {
    expect(iso(zonedWallTimeToInstants('Europe/Berlin', 2026, 10, 25, 2, 30, 0))).toEqual([
      '2026-10-25T00:30:00.000Z',
      '2026-10-25T01:30:00.000Z',
    ]);
    expect(iso(zonedWallTimeToInstants('Europe/Berlin', 2026, 10, 25, 2, 0, 0))).toEqual([
      '2026-10-25T00:00:00.000Z',
      '2026-10-25T01:00:00.000Z',
    ]);
    expect(iso(zonedWallTimeToInstants('Europe/Berlin', 2026, 10, 25, 3, 0, 0))).toEqual([
      '2026-10-25T02:00:00.000Z',
    ]);
  });
  it('handles both New York transitions', () => {
    expect(zonedWallTimeToInstants('America/New_York', 2026, 3, 8, 2, 30, 0)).toEqual([]);
    expect(iso(zonedWallTimeToInstants('America/New_York', 2026, 11, 1, 1, 30, 0))).toEqual([
      '2026-11-01T05:30:00.000Z',
      '2026-11-01T06:30:00.000Z',
    ]);
  });
  it("handles Lord Howe's half-hour DST", () => {
    // 2026-10-04 02:00 → 02:30 (+10:30 → +11); 2026-04-05 02:00 → 01:30 (+11 → +10:30).
    expect(zonedWallTimeToInstants('Australia/Lord_Howe', 2026, 10, 4, 2, 15, 0)).toEqual([]);
    expect(iso(zonedWallTimeToInstants('Australia/Lord_Howe', 2026, 10, 4, 2, 30, 0))).toEqual([
      '2026-10-03T15:30:00.000Z',
    ]);
    expect(iso(zonedWallTimeToInstants('Australia/Lord_Howe', 2026, 4, 5, 1, 45, 0))).toEqual([
      '2026-04-04T14:45:00.000Z',
      '2026-04-04T15:15:00.000Z',
    ]);
    expect(iso(zonedWallTimeToInstants('Australia/Lord_Howe', 2026, 4, 5, 1, 15, 0))).toEqual([
      '2026-04-04T14:15:00.000Z',
    ]);
  });
  it('handles a whole day that never happened (Samoa, 2011-12-30)', () => {
    expect(zonedWallTimeToInstants('Pacific/Apia', 2011, 12, 30, 12, 0, 0)).toEqual([]);
    expect(iso(zonedWallTimeToInstants('Pacific/Apia', 2011, 12, 31, 0, 0, 0))).toEqual([
      '2011-12-30T10:00:00.000Z',
    ]);
  });
  it('knows leap days', () => {
    expect(iso(zonedWallTimeToInstants('Europe/Berlin', 2028, 2, 29, 12, 0, 0))).toEqual([
      '2028-02-29T11:00:00.000Z',
    ]);
    expect(() => zonedWallTimeToInstants('Europe/Berlin', 2026, 2, 29, 12, 0, 0)).toThrow(RangeError);
  });
  it('refuses wall times no calendar has', () => {
    expect(() => zonedWallTimeToInstants('UTC', 2026, 2, 30, 0, 0, 0)).toThrow(RangeError);
    expect(() => zonedWallTimeToInstants('UTC', 2026, 13, 1, 0, 0, 0)).toThrow(RangeError);
    expect(() => zonedWallTimeToInstants('UTC', 2026, 1, 1, 24, 0, 0)).toThrow(RangeError);
    expect(() => zonedWallTimeToInstants('UTC', 2026, 1, 1, 0, 60, 0)).toThrow(RangeError);
    expect(() => zonedWallTimeToInstants('UTC', 2026, 1, 1, 0, 0, 1.5)).toThrow(RangeError);
  });
  it('agrees with offsetAt: every instant it gives shows the wall time asked for', () => {
    const zones = [
      'Europe/Berlin',
      'America/New_York',
      'Australia/Lord_Howe',
      'Asia/Tokyo',
      'America/Santiago',
    ];
    for (const zone of zones) {
      for (let t = ms('2026-01-01T00:00:00Z'); t < ms('2027-01-01T00:00:00Z'); t += 31 * H + 17 * 60_000) {
        const wall = t + offsetAt(zone, t);
        const instants = wallEpochToInstants(zone, wall);
        expect(instants).toContain(t);
        for (const i of instants) expect(i + offsetAt(zone, i)).toBe(wall);
      }
    }
  });
});

describe('formatting', () => {
  it('prints offsets as ±hh:mm, seconds only when present', () => {
    expect(formatOffset(0)).toBe('+00:00');
    expect(formatOffset(2 * H)).toBe('+02:00');
    expect(formatOffset(-3.5 * H)).toBe('-03:30');
    expect(formatOffset(10.5 * H)).toBe('+10:30');
    expect(formatOffset((53 * 60 + 28) * 1000)).toBe('+00:53:28');
  });
  it('prints a wall time with an offset, milliseconds only when present', () => {
    expect(formatWallTime(ms('2026-03-29T03:00:00Z'), 2 * H)).toBe('2026-03-29T03:00:00+02:00');
    expect(formatWallTime(ms('2026-03-29T03:00:00.250Z'), 0)).toBe('2026-03-29T03:00:00.250+00:00');
  });
  it('prints an instant as clocks in a zone show it', () => {
    expect(formatInZone('Europe/Berlin', ms('2026-03-29T01:00:00Z'))).toBe('2026-03-29T03:00:00+02:00');
    expect(formatInZone('Europe/Berlin', ms('2026-03-29T00:59:59Z'))).toBe('2026-03-29T01:59:59+01:00');
    expect(formatInZone('America/New_York', ms('2026-11-01T06:30:00Z'))).toBe('2026-11-01T01:30:00-05:00');
    expect(formatInZone('Asia/Tokyo', ms('2026-01-01T00:00:00Z'))).toBe('2026-01-01T09:00:00+09:00');
  });
});

describe('zone transitions', () => {
  const list = (zone: string, year: number) =>
    transitionsInYear(zone, year).map(
      (t) => `${new Date(t.at).toISOString()} ${t.before / 60_000}→${t.after / 60_000}`,
    );

  it('finds DST transitions to the second', () => {
    expect(list('Europe/Berlin', 2026)).toEqual([
      '2026-03-29T01:00:00.000Z 60→120',
      '2026-10-25T01:00:00.000Z 120→60',
    ]);
    expect(list('America/New_York', 2026)).toEqual([
      '2026-03-08T07:00:00.000Z -300→-240',
      '2026-11-01T06:00:00.000Z -240→-300',
    ]);
    expect(list('Australia/Lord_Howe', 2026)).toEqual([
      '2026-04-04T15:00:00.000Z 660→630',
      '2026-10-03T15:30:00.000Z 630→660',
    ]);
  });
  it('finds none in zones without DST', () => {
    expect(list('UTC', 2026)).toEqual([]);
    expect(list('Asia/Tokyo', 2026)).toEqual([]);
  });
  it('finds the next and previous transition around an instant', () => {
    expect(nextTransition('Europe/Berlin', ms('2026-03-29T01:00:00Z'))?.at).toBe(ms('2026-10-25T01:00:00Z'));
    expect(nextTransition('Europe/Berlin', ms('2026-03-29T00:59:59Z'))?.at).toBe(ms('2026-03-29T01:00:00Z'));
    expect(nextTransition('Europe/Berlin', ms('2026-12-31T00:00:00Z'))?.at).toBe(ms('2027-03-28T01:00:00Z'));
    expect(previousTransition('Europe/Berlin', ms('2026-03-29T01:00:00Z'))?.at).toBe(
      ms('2026-03-29T01:00:00Z'),
    );
    expect(previousTransition('Europe/Berlin', ms('2026-01-10T00:00:00Z'))?.at).toBe(
      ms('2025-10-26T01:00:00Z'),
    );
    expect(nextTransition('Asia/Tokyo', ms('2026-01-01T00:00:00Z'))).toBeUndefined();
    expect(previousTransition('UTC', ms('2026-01-01T00:00:00Z'))).toBeUndefined();
  });
});
