// Headers every response carries: no MIME sniffing, no framing (clickjacking), no referrer, no
// cross-origin reads of the API's answers; and HSTS where the API is reached over TLS (a TLS proxy
// in front says so with X-Forwarded-Proto, or the public URL is https). Pages that need more (the
// dashboard's Content-Security-Policy) add their own.
import type { MiddlewareHandler } from 'hono';
import { secureHeaders } from 'hono/secure-headers';

const HSTS = 'max-age=31536000; includeSubDomains';

export function securityHeaders(options: { publicUrl?: string | undefined } = {}): MiddlewareHandler[] {
  const everywhere = secureHeaders({
    xFrameOptions: 'DENY',
    referrerPolicy: 'no-referrer',
    strictTransportSecurity: false,
    crossOriginResourcePolicy: 'same-origin',
  });
  const publicTls = options.publicUrl?.startsWith('https:') ?? false;
  const hsts: MiddlewareHandler = async function hstsBehindTls(c, next) {
    await next();
    const tls =
      publicTls || c.req.header('x-forwarded-proto') === 'https' || new URL(c.req.url).protocol === 'https:';
    if (tls) c.header('Strict-Transport-Security', HSTS);
  };
  return [everywhere, hsts];
}
