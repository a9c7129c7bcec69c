import { describe, expect, it } from 'vitest';
import { PREVIEW_MAX, preview } from './preview.ts';
import type { ScheduleSpec } from './schedule.ts';

const RFC3339_UTC = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;
const RFC3339_OFFSET = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{3})?[+-]\d{2}:\d{2}$/;
const now = new Date('2026-03-28T12:00:00Z');

describe('preview', () => {
  it('lists the next ticks as the API returns them: at in UTC, local with its offset, dst', () => {
    const spec: ScheduleSpec = { type: 'cron', cron: '30 2 * * *', timezone: 'Europe/Berlin' };
    expect(preview(spec, now, 2)).toEqual([
      {
        at: '2026-03-29T01:00:00.000Z',
        nominal: '2026-03-29T01:00:00.000Z',
        local: '2026-03-29T03:00:00+02:00',
        dst: 'shifted',
      },
      {
        at: '2026-03-30T00:30:00.000Z',
        nominal: '2026-03-30T00:30:00.000Z',
        local: '2026-03-30T02:30:00+02:00',
        dst: null,
      },
    ]);
  });
  it('shows a skipped tick with the wall time that did not exist', () => {
    const spec: ScheduleSpec = {
      type: 'cron',
      cron: '30 2 * * *',
      timezone: 'Europe/Berlin',
      dst: { nonexistent: 'skip' },
    };
    expect(preview(spec, now, 1)).toEqual([
      {
        at: '2026-03-29T00:59:59.999Z',
        nominal: '2026-03-29T00:59:59.999Z',
        local: '2026-03-29T02:30:00+01:00',
        dst: 'skipped',
      },
    ]);
  });
  it('shows a repeated tick with the second offset', () => {
    const spec: ScheduleSpec = {
      type: 'cron',
      cron: '30 1 * * *',
      timezone: 'America/New_York',
      dst: { repeated: 'twice' },
    };
    expect(preview(spec, new Date('2026-10-31T12:00:00Z'), 2)).toEqual([
      {
        at: '2026-11-01T05:30:00.000Z',
        nominal: '2026-11-01T05:30:00.000Z',
        local: '2026-11-01T01:30:00-04:00',
        dst: null,
      },
      {
        at: '2026-11-01T06:30:00.000Z',
        nominal: '2026-11-01T06:30:00.000Z',
        local: '2026-11-01T01:30:00-05:00',
        dst: 'repeated',
      },
    ]);
  });
  it('every item is well formed, for every kind of schedule', () => {
    const specs: ScheduleSpec[] = [
      { type: 'interval', minutes: 7 },
      { type: 'interval', minutes: 60, timezone: 'Australia/Lord_Howe' },
      { type: 'cron', cron: '*/5 * * * * *', timezone: 'Asia/Tokyo' },
      {
        type: 'cron',
        cron: '0 * * * *',
        timezone: 'America/St_Johns',
        dst: { nonexistent: 'skip', repeated: 'twice' },
      },
      { type: 'at', at: '2026-04-01T00:00:00+02:00' },
    ];
    for (const spec of specs) {
      const items = preview(spec, now, 50);
      expect(items.length).toBeGreaterThan(0);
      for (const item of items) {
        expect(Object.keys(item).sort()).toEqual(['at', 'dst', 'local', 'nominal']);
        expect(item.nominal).toBe(item.at);
        expect(item.at).toMatch(RFC3339_UTC);
        expect(item.local).toMatch(RFC3339_OFFSET);
        expect(Date.parse(item.at)).toBeGreaterThan(now.getTime());
      }
    }
  });
  it('shows jittered times: the nominal time plus the workflow offset, every tick after the last', () => {
    const spec: ScheduleSpec = { type: 'interval', minutes: 5, jitter_seconds: 120, jitter_key: 'wf-1' };
    const items = preview(spec, now, 20);
    const offsets = items.map((i) => Date.parse(i.at) - Date.parse(i.nominal));
    expect(offsets.every((o) => o >= 0 && o < 120_000)).toBe(true);
    expect(new Set(offsets).size).toBeGreaterThan(15);
    // The same on every computation (another replica, a restart), and in order.
    expect(preview(spec, now, 20)).toEqual(items);
    expect(items.every((i, k) => k === 0 || Date.parse(i.at) > Date.parse(items[k - 1]!.at))).toBe(true);
    // Without the workflow's key there is no offset.
    const { jitter_key, ...unkeyed } = spec;
    void jitter_key;
    expect(preview(unkeyed, now, 3).every((i) => i.at === i.nominal)).toBe(true);
  });
  it('stops where the schedule ends', () => {
    expect(preview({ type: 'at', at: '2026-04-01T00:00:00Z' }, now, 10)).toHaveLength(1);
    expect(
      preview(
        { type: 'interval', minutes: 60, anchor: '2026-03-28T12:00:00Z', end_at: '2026-03-28T15:00:00Z' },
        now,
        10,
      ),
    ).toHaveLength(3);
  });
  it('clamps count to 0…PREVIEW_MAX', () => {
    const spec: ScheduleSpec = { type: 'cron', cron: '* * * * * *', timezone: 'UTC' };
    expect(preview(spec, now, 0)).toEqual([]);
    expect(preview(spec, now, -3)).toEqual([]);
    expect(preview(spec, now, Number.NaN)).toEqual([]);
    expect(preview(spec, now, 2.9)).toHaveLength(2);
    expect(preview(spec, now, PREVIEW_MAX + 500)).toHaveLength(PREVIEW_MAX);
  });
});
