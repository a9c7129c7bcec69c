import { describe, expect, it } from 'vitest';
import { EndpointPolicy, literalAddress, parseNetworks } from './endpoint-policy.ts';

describe('where a HEARTBEAT may connect', () => {
  const policy = new EndpointPolicy();

  it.each([
    '127.0.0.1',
    '127.9.9.9',
    '::1',
    '10.1.2.3',
    '172.20.0.1',
    '192.168.1.1',
    '169.254.169.254',
    'fe80::1',
    'fd00::1',
    '100.64.0.1',
    '0.0.0.0',
    '::',
    '::ffff:127.0.0.1',
    '::ffff:169.254.169.254',
    '224.0.0.1',
  ])('refuses %s by default', (address) => {
    expect(policy.refuses(address)).toBe(true);
  });

  it.each(['93.184.216.34', '1.1.1.1', '2606:4700:4700::1111', '::ffff:8.8.8.8'])(
    'lets %s through',
    (address) => {
      expect(policy.refuses(address)).toBe(false);
    },
  );

  it('lets an operator allow the networks it monitors, and only those', () => {
    const internal = new EndpointPolicy(parseNetworks('10.20.0.0/16, 127.0.0.1'));
    expect(internal.refuses('10.20.3.4')).toBe(false);
    expect(internal.refuses('127.0.0.1')).toBe(false);
    expect(internal.refuses('127.0.0.2')).toBe(true);
    expect(internal.refuses('10.21.0.1')).toBe(true);
  });

  it('refuses a list with something that is not a network', () => {
    expect(() => parseNetworks('10.0.0.0/8, intranet')).toThrow(/intranet/);
    expect(() => parseNetworks('10.0.0.0/33')).toThrow(/prefix/);
  });

  it('reads IP literals out of URL hosts', () => {
    expect(literalAddress(new URL('http://[::1]:8080/').hostname)).toBe('::1');
    expect(literalAddress(new URL('http://127.0.0.1/').hostname)).toBe('127.0.0.1');
    expect(literalAddress(new URL('http://example.com/').hostname)).toBeUndefined();
  });
});
