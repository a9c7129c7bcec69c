// What every route answers before its handler runs, and the document that says so: a body that is
// not JSON is a 415, a body over 1 MiB a 413, and every operation of the document has a name.
import { describe, expect, it } from 'vitest';
import { appWithoutConnections, openapiDocument } from '../../src/cli/openapi-command.ts';
import { OPERATIONS } from '../../src/http/openapi-document.ts';
import { MAX_BODY_BYTES } from '../../src/http/request-limits.ts';

const app = appWithoutConnections();

describe('request limits', () => {
  it('refuses a body that is not JSON with 415', async () => {
    const res = await app.request('/auth/login', {
      method: 'POST',
      // As a client sends it: HTTP/1.1 announces a body by its length.
      headers: { 'content-type': 'text/plain', 'content-length': '11' },
      body: 'email=a@b.c',
    });
    expect(res.status).toBe(415);
    expect(res.headers.get('content-type')).toContain('application/problem+json');
    expect(((await res.json()) as { code: string }).code).toBe('unsupported_media_type');
  });

  it('refuses a body over 1 MiB with 413, JSON or not', async () => {
    const res = await app.request('/auth/login', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ email: 'a@b.c', password: 'x'.repeat(MAX_BODY_BYTES) }),
    });
    expect(res.status).toBe(413);
    expect(((await res.json()) as { code: string }).code).toBe('body_too_large');
  });
});

describe('the OpenAPI document', () => {
  it('names every operation, and every name is used once', async () => {
    const doc = (await openapiDocument()) as {
      paths: Record<string, Record<string, { operationId?: string }>>;
    };
    const ops = Object.entries(doc.paths).flatMap(([path, item]) =>
      Object.entries(item).map(([method, op]) => ({
        key: `${method.toUpperCase()} ${path}`,
        id: op.operationId,
      })),
    );
    expect(ops.filter((o) => !o.id).map((o) => o.key)).toEqual([]);
    expect(new Set(ops.map((o) => o.id)).size).toBe(ops.length);
    expect(ops.map((o) => o.key).sort()).toEqual(Object.keys(OPERATIONS).sort());
  });
});

describe('security headers', () => {
  it('are on every answer, errors included; HSTS only where the API is reached over TLS', async () => {
    for (const res of [await app.request('/healthz'), await app.request('/no/such/route')]) {
      expect(res.headers.get('x-content-type-options')).toBe('nosniff');
      expect(res.headers.get('x-frame-options')).toBe('DENY');
      expect(res.headers.get('referrer-policy')).toBe('no-referrer');
      expect(res.headers.get('cross-origin-resource-policy')).toBe('same-origin');
      expect(res.headers.get('strict-transport-security')).toBeNull();
    }
    const behindTls = await app.request('/healthz', { headers: { 'x-forwarded-proto': 'https' } });
    expect(behindTls.headers.get('strict-transport-security')).toMatch(/^max-age=\d+/);
  });
});
