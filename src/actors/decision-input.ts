// Small parsers shared by the deciders: commands arrive typed, but their values still have to make
// sense (non-empty ids, real instants) before they become events.
import { ValidationError } from '../errors.ts';

export function requireText(field: string, value: unknown, code = `invalid_${field}`): string {
  if (typeof value !== 'string' || value.trim() === '') {
    throw new ValidationError(code, `${field} must be a non-empty string`, { field });
  }
  return value;
}

/** Parses an instant and returns it in canonical ISO form, so stored instants compare as equal. */
export function requireInstant(field: string, value: unknown): string {
  const ms = typeof value === 'string' ? Date.parse(value) : Number.NaN;
  if (Number.isNaN(ms)) {
    throw new ValidationError('invalid_timestamp', `${field} must be an ISO 8601 timestamp`, { field });
  }
  return new Date(ms).toISOString();
}

export function requireIntegerIn(field: string, value: unknown, min: number, max: number): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw new ValidationError(`invalid_${field}`, `${field} must be an integer from ${min} to ${max}`, {
      field,
    });
  }
  return value;
}

export function isPlainObject(value: unknown): value is Readonly<Record<string, unknown>> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Structural equality of JSON values (key order does not matter). */
export function sameJson(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (Array.isArray(a) || Array.isArray(b)) {
    return (
      Array.isArray(a) && Array.isArray(b) && a.length === b.length && a.every((x, i) => sameJson(x, b[i]))
    );
  }
  if (!isPlainObject(a) || !isPlainObject(b)) return false;
  const keys = Object.keys(a);
  return keys.length === Object.keys(b).length && keys.every((key) => key in b && sameJson(a[key], b[key]));
}
