import { describe, expect, it } from 'vitest';
import { checkReadiness } from './readiness.ts';

describe('readiness', () => {
  it('is ok when every probe answers', async () => {
    const report = await checkReadiness({ a: async () => {}, b: async () => 1 });
    expect(report.status).toBe('ok');
    expect(Object.keys(report.checks)).toEqual(['a', 'b']);
    expect(report.checks.a?.ok).toBe(true);
  });

  it('names the dependency that failed and why', async () => {
    const report = await checkReadiness({
      nats: async () => {},
      postgres: async () => {
        throw new Error('connection refused');
      },
    });
    expect(report.status).toBe('unavailable');
    expect(report.checks.nats?.ok).toBe(true);
    expect(report.checks.postgres).toMatchObject({ ok: false, error: 'connection refused' });
  });

  it('counts a probe that hangs as down after the deadline', async () => {
    const report = await checkReadiness({ docker: () => new Promise(() => {}) }, { timeoutMs: 50 });
    expect(report.checks.docker).toMatchObject({ ok: false, error: 'no answer within 50 ms' });
  });
});
