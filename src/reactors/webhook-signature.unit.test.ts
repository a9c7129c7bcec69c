import { describe, expect, it } from 'vitest';
import { signatureHeader, signatureOf, verifySignature } from './webhook-signature.ts';

describe('webhook signatures', () => {
  const secret = 'whsec_test';
  const at = new Date('2026-12-06T12:00:00Z');
  const body = '{"id":"e1"}';

  it('signs "<t>.<body>" with HMAC-SHA256, as a known vector', () => {
    // echo -n '1796558400.{"id":"e1"}' | openssl dgst -sha256 -hmac whsec_test
    const hex = 'f33dff2ac92b93f3273cec81aecd60e58cce3fcea7040129a032c69e3b7c679a';
    expect(signatureOf(secret, 1796558400, body)).toBe(hex);
    expect(signatureHeader(secret, at, body)).toBe(`t=1796558400,v1=${hex}`);
  });

  it('verifies its own header, and refuses another body, secret, or a stale timestamp', () => {
    const header = signatureHeader(secret, at, body);
    expect(verifySignature(secret, header, body, at)).toBe(true);
    expect(verifySignature(secret, header, `${body} `, at)).toBe(false);
    expect(verifySignature('whsec_other', header, body, at)).toBe(false);
    expect(verifySignature(secret, header, body, new Date(at.getTime() + 301_000))).toBe(false);
    expect(verifySignature(secret, 'garbage', body, at)).toBe(false);
  });
});
