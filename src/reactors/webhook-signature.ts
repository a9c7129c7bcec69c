// How a webhook delivery is signed: HMAC-SHA256 with the subscription's secret over "<t>.<body>",
// sent as `Chronoverse-Signature: t=<unix seconds>,v1=<hex>` (the scheme of Stripe and GitHub). The
// timestamp inside the signed text lets a receiver refuse an old delivery replayed at it. Pure.
import { createHmac, timingSafeEqual } from 'node:crypto';

export const SIGNATURE_HEADER = 'Chronoverse-Signature';
export const EVENT_ID_HEADER = 'Chronoverse-Event-Id';
export const EVENT_TYPE_HEADER = 'Chronoverse-Event-Type';
export const DELIVERY_ID_HEADER = 'Chronoverse-Delivery-Id';

/** The hex HMAC of "<timestamp>.<body>". */
export function signatureOf(secret: string, timestamp: number, body: string): string {
  return createHmac('sha256', secret).update(`${timestamp}.${body}`).digest('hex');
}

/** The value of the signature header for a body sent at `at`. */
export function signatureHeader(secret: string, at: Date, body: string): string {
  const t = Math.floor(at.getTime() / 1000);
  return `t=${t},v1=${signatureOf(secret, t, body)}`;
}

/**
 * Whether a header signs this body with this secret within `toleranceSeconds` of `now`: the receiver's
 * side, kept here for the tests of the sender (the one users copy is in docs/webhooks.md).
 */
export function verifySignature(
  secret: string,
  header: string,
  body: string,
  now: Date,
  toleranceSeconds = 300,
): boolean {
  const parts = new Map<string, string[]>();
  for (const item of header.split(',')) {
    const [k, v] = item.split('=', 2);
    if (k && v) parts.set(k.trim(), [...(parts.get(k.trim()) ?? []), v.trim()]);
  }
  const t = Number(parts.get('t')?.[0]);
  if (!Number.isSafeInteger(t) || Math.abs(now.getTime() / 1000 - t) > toleranceSeconds) return false;
  const expected = Buffer.from(signatureOf(secret, t, body), 'hex');
  return (parts.get('v1') ?? []).some((v) => {
    const given = Buffer.from(v, 'hex');
    return given.length === expected.length && timingSafeEqual(given, expected);
  });
}
