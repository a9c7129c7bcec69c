// Telemetry off by default: without the OTEL_* variables a role process loads no SDK, exporter,
// instrumentation or loader hook (the bootstrap reads the environment and returns), and an append
// adds no traceparent header; with them, the bootstrap loads the SDK and the pg and undici
// instrumentations before the application.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EventStore } from '../../src/events/event-store.ts';
import { streamDefinitions, streamNames } from '../../src/events/stream-definitions.ts';
import { eventSubject } from '../../src/events/subjects.ts';
import { connectNats, type Nats } from '../../src/infra/nats-connection.ts';
import { reconcileStreams } from '../../src/migrate/jetstream-topology.ts';
import { newId } from '../support/fixtures.ts';
import { startNatsServer, type TestNatsServer } from '../support/nats-server.ts';

/** Runs test/support/telemetry-probe.ts with `env` instead of any OTEL_* variable of this process. */
async function probe(env: Record<string, string>): Promise<{ started: boolean; sdk: string[] }> {
  const clean = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('OTEL_')));
  const { stdout } = await promisify(execFile)(
    'node_modules/.bin/node',
    ['--import', 'tsx', 'test/support/telemetry-probe.ts'],
    { env: { ...clean, ...env }, timeout: 60_000 },
  );
  return JSON.parse(stdout.trim().split('\n').at(-1)!);
}

describe('the bootstrap', () => {
  it('loads nothing of the SDK when no variable asks for it', async () => {
    const off = await probe({});
    expect(off.started).toBe(false);
    // The semantic conventions are constants (the API's middleware names its attributes with them).
    expect(off.sdk.filter((m) => m !== '@opentelemetry/semantic-conventions')).toEqual([]);
    const disabled = await probe({ OTEL_TRACES_EXPORTER: 'otlp', OTEL_SDK_DISABLED: 'true' });
    expect(disabled).toEqual(off);
  });

  it('loads the SDK, its exporters and the pg and undici instrumentations when asked', async () => {
    const on = await probe({ OTEL_TRACES_EXPORTER: 'console', OTEL_METRICS_EXPORTER: 'none' });
    expect(on.started).toBe(true);
    expect(on.sdk).toEqual(
      expect.arrayContaining([
        '@opentelemetry/sdk-node',
        '@opentelemetry/instrumentation-pg',
        '@opentelemetry/instrumentation-undici',
        'import-in-the-middle',
      ]),
    );
  });
});

describe('an append with the SDK off', () => {
  let server: TestNatsServer;
  let nats: Nats;

  beforeAll(async () => {
    server = await startNatsServer();
    nats = await connectNats(server.url, 'test');
    await reconcileStreams(nats.jsm, streamDefinitions({ logBufferMaxAgeHours: 1 }));
  });
  afterAll(async () => {
    await nats?.nc.close();
    await server?.dispose();
  });

  it('adds no traceparent header (this test process runs no SDK)', async () => {
    const store = new EventStore(nats.js, nats.jsm);
    const userId = newId();
    const subject = eventSubject(userId, 'user', userId);
    const { sequence } = await store.append(
      subject,
      [
        {
          id: newId(),
          type: 'NotificationsRead',
          version: 1,
          aggregate: 'user',
          aggregateId: userId,
          userId,
          occurredAt: new Date().toISOString(),
          correlationId: 'c',
          causationId: 'c',
          data: { ids: [] },
        } as never,
      ],
      0,
      newId(),
    );
    const m = await nats.jsm.direct.getMessage(streamNames.events, { seq: sequence });
    const keys = m?.header?.keys().map((k) => k.toLowerCase()) ?? [];
    expect(keys).toContain('cv-event-types');
    expect(keys).not.toContain('traceparent');
    expect(keys).not.toContain('tracestate');
  });
});
