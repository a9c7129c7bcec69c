// The OpenAPI document is valid OpenAPI 3.1 (checked by a standard validator) and names every route
// the app serves, with its method.

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import SwaggerParser from '@apidevtools/swagger-parser';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAuthServices } from '../../src/auth/auth-services.ts';
import { type ApiDeps, createApp } from '../../src/http/app.ts';
import { openRuntime, type Runtime } from '../../src/runtime/runtime.ts';
import { createLogger } from '../../src/telemetry/logger.ts';
import { dashboardRoutes } from '../../src/web/routes.tsx';
import { startNatsServer, type TestNatsServer } from '../support/nats-server.ts';
import { createTestDatabases, type TestDatabases } from '../support/test-databases.ts';

let nats: TestNatsServer;
let dbs: TestDatabases;
let runtime: Runtime;
let app: ReturnType<typeof createApp>;
let api: ApiDeps;
const keyDir = mkdtempSync(join(tmpdir(), 'cv-openapi-keys-'));

beforeAll(async () => {
  nats = await startNatsServer();
  dbs = await createTestDatabases({ NATS_URL: nats.url, CV_JWT_KEY_DIR: keyDir });
  runtime = await openRuntime(dbs.config, 'test');
  const auth = await createAuthServices({ db: runtime.db, config: dbs.config, nats: runtime.nats });
  api = {
    config: dbs.config,
    db: runtime.db,
    commands: runtime.commands,
    events: runtime.events,
    auth,
    nats: runtime.nats,
    clickhouse: runtime.clickhouse,
  };
  app = createApp({ log: createLogger('test', 'error'), readinessProbes: {}, api });
});

afterAll(async () => {
  await runtime?.close();
  await dbs?.dispose();
  await nats?.dispose();
  rmSync(keyDir, { recursive: true, force: true });
});

describe('OpenAPI document', () => {
  it('is valid OpenAPI 3.1 and lists every route of the app', async () => {
    const res = await app.request('/openapi.json');
    expect(res.status).toBe(200);
    const doc = (await res.json()) as { openapi: string; paths: Record<string, Record<string, unknown>> };
    expect(doc.openapi).toBe('3.1.0');
    await SwaggerParser.validate(structuredClone(doc) as never);

    const documented = new Set(
      Object.entries(doc.paths).flatMap(([path, ops]) =>
        Object.keys(ops).map((m) => `${m.toUpperCase()} ${path.replace(/\{(\w+)\}/g, ':$1')}`),
      ),
    );
    // The document itself and the page that renders it describe the API; they are not part of it,
    // and neither are the dashboard's pages (HTML for browsers, on the same app).
    const meta = new Set(['GET /openapi.json', 'GET /docs']);
    const dashboard = new Set(
      dashboardRoutes({ ...api, log: createLogger('test', 'error') }).routes.map(
        (r) => `${r.method} ${r.path}`,
      ),
    );
    const served = app.routes
      .filter((r) => r.method !== 'ALL')
      .map((r) => `${r.method} ${r.path}`)
      .filter((r) => !meta.has(r) && !dashboard.has(r));
    expect(served.length).toBeGreaterThan(25);
    expect(served.filter((r) => !documented.has(r))).toEqual([]);
    expect([...documented].filter((r) => !served.includes(r))).toEqual([]);
  });

  it('serves a page that renders the document', async () => {
    const res = await app.request('/docs');
    expect(res.status).toBe(200);
    expect(await res.text()).toContain('fetch(specUrl)');
  });
});
