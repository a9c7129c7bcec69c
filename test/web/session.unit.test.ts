import { describe, expect, it } from 'vitest';
import * as api from '../../src/http/auth-cookies.ts';
import { ACCESS_COOKIE, CSRF_COOKIE, safeNext } from '../../src/web/session.ts';

describe('the dashboard session', () => {
  it('reads the cookies the API sets', () => {
    expect(ACCESS_COOKIE).toBe(api.ACCESS_COOKIE);
    expect(CSRF_COOKIE).toBe(api.CSRF_COOKIE);
  });

  it('returns after login only to a path of this site', () => {
    expect(safeNext('/w/1?status=FAILED')).toBe('/w/1?status=FAILED');
    expect(safeNext(undefined)).toBe('/');
    expect(safeNext('')).toBe('/');
    expect(safeNext('https://evil.example/')).toBe('/');
    expect(safeNext('//evil.example/')).toBe('/');
    expect(safeNext('/\\evil.example/')).toBe('/');
    expect(safeNext('javascript:alert(1)')).toBe('/');
  });
});
