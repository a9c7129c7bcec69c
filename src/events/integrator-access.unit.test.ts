import { describe, expect, it } from 'vitest';
import { INTEGRATOR_API_PREFIX, integratorAccess, integratorServerConfig } from './integrator-access.ts';

const user = '0190f1d2-6f3a-7c4e-9b1d-2a3b4c5d6e7f';
const credential = '11111111-2222-4333-8444-555555555555';

describe('integratorAccess', () => {
  it("reaches the user's subjects and the credential's own consumers and inbox only", () => {
    const access = integratorAccess(user, credential);
    expect(access.inboxPrefix).toBe(`_INBOX_${credential}`);
    expect(access.subjects).toEqual({ events: `cv.evt.${user}.>`, logs: `cv.logs.${user}.>` });
    expect(access.consumers).toEqual([
      { stream: 'CV_EVENTS', name: `integrator-${credential}`, filter_subject: `cv.evt.${user}.>` },
      { stream: 'CV_LOGS', name: `integrator-${credential}`, filter_subject: `cv.logs.${user}.>` },
    ]);
    expect(access.permissions.subscribe).toEqual([
      `cv.evt.${user}.>`,
      `cv.logs.${user}.>`,
      `_INBOX_${credential}.>`,
    ]);
    expect(access.permissions.publish).toEqual([
      `${INTEGRATOR_API_PREFIX}.CONSUMER.INFO.CV_EVENTS.integrator-${credential}`,
      `${INTEGRATOR_API_PREFIX}.CONSUMER.MSG.NEXT.CV_EVENTS.integrator-${credential}`,
      `$JS.ACK.CV_EVENTS.integrator-${credential}.>`,
      `${INTEGRATOR_API_PREFIX}.CONSUMER.INFO.CV_LOGS.integrator-${credential}`,
      `${INTEGRATOR_API_PREFIX}.CONSUMER.MSG.NEXT.CV_LOGS.integrator-${credential}`,
      `$JS.ACK.CV_LOGS.integrator-${credential}.>`,
    ]);
    // No consumer may be created, no stream API, nothing published to a Chronoverse subject.
    expect(access.permissions.publish.some((s) => /CREATE|STREAM|DIRECT|^cv\./.test(s))).toBe(false);
  });

  it('refuses ids that would widen a subject', () => {
    expect(() => integratorAccess('*', credential)).toThrow();
    expect(() => integratorAccess('a.b', credential)).toThrow();
    expect(() => integratorAccess(user, '>')).toThrow();
    expect(() => integratorAccess(user, 'a.b')).toThrow();
  });
});

describe('integratorServerConfig', () => {
  const config = integratorServerConfig({ issuerPublicKey: 'AISSUER', chronoversePassword: 'p"w' });

  it('exports to the integrators account only, and imports the API under the integrators prefix', () => {
    expect(config).toContain('password: "p\\"w"');
    expect(config).toContain('issuer: AISSUER');
    expect(config).toContain('auth_users: [ chronoverse ]');
    for (const line of config.split('\n').filter((l) => /\{ (stream|service): "/.test(l))) {
      expect(line).toContain('accounts: [INTEGRATORS]');
    }
    expect(config).toContain(
      '{ service: { account: CHRONOVERSE, subject: "$JS.API.CONSUMER.MSG.NEXT.CV_EVENTS.*" }, to: "$CV.API.CONSUMER.MSG.NEXT.CV_EVENTS.*" }',
    );
    expect(config).not.toMatch(/CONSUMER\.CREATE|STREAM\.|DIRECT|cv\.dispatch/);
  });
});
