import { describe, expect, it } from 'vitest';
import { EndpointPolicy } from './endpoint-policy.ts';
import { addressRefusal, targetRefusal } from './webhook-target.ts';

describe('where a webhook may connect', () => {
  const closed = new EndpointPolicy();
  const lab = new EndpointPolicy(['10.20.0.0/16', '127.0.0.1']);

  it('refuses internal addresses the operator has not allowed, over either protocol', () => {
    for (const a of ['127.0.0.1', '10.0.0.1', '169.254.169.254', '::1', '::ffff:192.168.1.1']) {
      expect(addressRefusal('https:', a, closed), a).toBe('url_not_allowed');
      expect(addressRefusal('http:', a, closed), a).toBe('url_not_allowed');
    }
  });

  it('takes https anywhere public, plain http only inside the operator’s networks', () => {
    expect(addressRefusal('https:', '93.184.216.34', closed)).toBeUndefined();
    expect(addressRefusal('http:', '93.184.216.34', closed)).toBe('insecure_url');
    expect(addressRefusal('http:', '10.20.3.4', lab)).toBeUndefined();
    expect(addressRefusal('http:', '127.0.0.1', lab)).toBeUndefined();
    expect(addressRefusal('http:', '10.21.0.1', lab)).toBe('url_not_allowed');
  });

  it('refuses a target only when every address it has is refused; none known is left to the connection', () => {
    expect(targetRefusal('https:', ['10.0.0.1', '93.184.216.34'], closed)).toBeUndefined();
    expect(targetRefusal('https:', ['10.0.0.1', '127.0.0.1'], closed)).toBe('url_not_allowed');
    expect(targetRefusal('http:', ['93.184.216.34'], closed)).toBe('insecure_url');
    expect(targetRefusal('https:', [], closed)).toBeUndefined();
  });
});
