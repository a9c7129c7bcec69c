// Wall-clock time in IANA zones, from the tz data Node ships (Intl): the UTC offset at an instant, the
// instants a wall time maps to (0 in a spring-forward gap, 2 in a fall-back overlap) and RFC 3339 text.

const DAY_MS = 86_400_000;

/** A wall-clock date and time, as the calendar fields read on a clock in some zone. */
export type WallTime = {
  readonly year: number;
  readonly month: number;
  readonly day: number;
  readonly hour: number;
  readonly minute: number;
  readonly second: number;
};

const offsetFormats = new Map<string, Intl.DateTimeFormat>();

function offsetFormat(zone: string): Intl.DateTimeFormat {
  let format = offsetFormats.get(zone);
  if (format === undefined) {
    // `longOffset` prints the offset itself ("GMT+05:30", seconds for old local mean times), which
    // is the cheapest way to read it: about 2 µs a call, against 3 µs or more for the fields.
    format = new Intl.DateTimeFormat('en-US', { timeZone: zone, timeZoneName: 'longOffset' });
    offsetFormats.set(zone, format);
  }
  return format;
}

/** The zone's UTC offset in milliseconds (east positive) at the instant `epochMs`. Throws RangeError on an unknown zone. */
export function offsetAt(zone: string, epochMs: number): number {
  const text = offsetFormat(zone).format(epochMs);
  const match = /GMT(?:([+-])(\d{2}):(\d{2})(?::(\d{2}))?)?$/.exec(text);
  if (match === null) throw new RangeError(`cannot read the UTC offset of ${zone} from "${text}"`);
  const [, sign, hh, mm, ss] = match;
  if (sign === undefined) return 0;
  const ms = (Number(hh) * 3600 + Number(mm) * 60 + Number(ss ?? 0)) * 1000;
  return sign === '-' ? -ms : ms;
}

/** The wall time as if it were a UTC instant: the arithmetic form used to compare and step wall times. */
export function wallTimeToEpoch(wall: WallTime): number {
  const date = new Date(0);
  // setUTCFullYear, unlike Date.UTC, does not map years 0–99 to 1900–1999.
  date.setUTCFullYear(wall.year, wall.month - 1, wall.day);
  date.setUTCHours(wall.hour, wall.minute, wall.second, 0);
  return date.getTime();
}

export function epochToWallTime(wallEpochMs: number): WallTime {
  const date = new Date(wallEpochMs);
  return {
    year: date.getUTCFullYear(),
    month: date.getUTCMonth() + 1,
    day: date.getUTCDate(),
    hour: date.getUTCHours(),
    minute: date.getUTCMinutes(),
    second: date.getUTCSeconds(),
  };
}

function isValidWallTime(w: WallTime): boolean {
  const fields = [w.year, w.month, w.day, w.hour, w.minute, w.second];
  if (!fields.every(Number.isInteger)) return false;
  if (w.month < 1 || w.month > 12 || w.hour > 23 || w.minute > 59 || w.second > 59) return false;
  if (w.day < 1 || w.hour < 0 || w.minute < 0 || w.second < 0) return false;
  const back = epochToWallTime(wallTimeToEpoch(w));
  return back.month === w.month && back.day === w.day;
}

/**
 * The instants at which clocks in `zone` read the given wall time, earliest first: none when the
 * time falls in a spring-forward gap, two when it falls in a fall-back overlap, one otherwise.
 * Throws RangeError for a date or time that no calendar has (February 30, 24:00, …).
 */
export function zonedWallTimeToInstants(
  zone: string,
  year: number,
  month: number,
  day: number,
  hour: number,
  minute: number,
  second: number,
): Date[] {
  const wall: WallTime = { year, month, day, hour, minute, second };
  if (!isValidWallTime(wall)) {
    throw new RangeError(`not a valid wall time: ${JSON.stringify(wall)}`);
  }
  return wallEpochToInstants(zone, wallTimeToEpoch(wall)).map((ms) => new Date(ms));
}

/**
 * As zonedWallTimeToInstants, on a wall time in its arithmetic form. The candidate offsets are
 * those in force a day either side (the method of the Temporal polyfill): a wall time can only be
 * read under an offset the zone has near it, and it is read at `wall − offset` only if the zone
 * really has that offset then.
 */
export function wallEpochToInstants(zone: string, wallEpochMs: number): number[] {
  const candidates = new Set([offsetAt(zone, wallEpochMs - DAY_MS), offsetAt(zone, wallEpochMs + DAY_MS)]);
  const instants: number[] = [];
  for (const offset of candidates) {
    const instant = wallEpochMs - offset;
    if (offsetAt(zone, instant) === offset) instants.push(instant);
  }
  return instants.sort((a, b) => a - b);
}

function pad(value: number, width = 2): string {
  return String(value).padStart(width, '0');
}

/** "+02:00", "-03:30", "+00:00"; seconds only when the offset has them (old local mean times). */
export function formatOffset(offsetMs: number): string {
  const sign = offsetMs < 0 ? '-' : '+';
  const total = Math.abs(offsetMs) / 1000;
  const hours = Math.floor(total / 3600);
  const minutes = Math.floor((total % 3600) / 60);
  const seconds = total % 60;
  return `${sign}${pad(hours)}:${pad(minutes)}${seconds === 0 ? '' : `:${pad(seconds)}`}`;
}

/**
 * A wall time (arithmetic form) followed by an offset, e.g. "2026-03-29T03:00:00+02:00";
 * milliseconds only when there are some. The pair need not be an instant the zone really shows:
 * a time skipped by a spring-forward gap is printed with the offset in force before the gap.
 */
export function formatWallTime(wallEpochMs: number, offsetMs: number): string {
  const d = new Date(wallEpochMs);
  const year = d.getUTCFullYear();
  const yearText = year >= 0 && year <= 9999 ? pad(year, 4) : String(year);
  const ms = d.getUTCMilliseconds();
  const date = `${yearText}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())}`;
  const time = `${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())}`;
  return `${date}T${time}${ms === 0 ? '' : `.${pad(ms, 3)}`}${formatOffset(offsetMs)}`;
}

/** The instant as clocks in `zone` show it, with the offset they use then. */
export function formatInZone(zone: string, epochMs: number): string {
  const offset = offsetAt(zone, epochMs);
  return formatWallTime(epochMs + offset, offset);
}
