// /readyz reports each real dependency and follows NATS going away and coming back.
import { describe, expect, it } from 'vitest';
import { createApp } from '../../src/http/app.ts';
import { waitUntil } from '../../src/stack/process-control.ts';
import { createLogger } from '../../src/telemetry/logger.ts';
import { useTestEnvironment } from '../support/test-environment.ts';

const env = useTestEnvironment({ migrate: false });

async function readyz(): Promise<{
  status: number;
  body: { status: string; checks: Record<string, { ok: boolean; error?: string }> };
}> {
  const app = createApp({ log: createLogger('test', 'error'), readinessProbes: env.runtime.readinessProbes });
  const res = await app.request('/readyz');
  return { status: res.status, body: (await res.json()) as Awaited<ReturnType<typeof readyz>>['body'] };
}

describe('readiness', () => {
  it('is 200 with nats, postgres, clickhouse and docker all ok', async () => {
    const { status, body } = await readyz();
    expect(body.status).toBe('ok');
    expect(Object.keys(body.checks).sort()).toEqual(['clickhouse', 'docker', 'nats', 'postgres']);
    expect(status).toBe(200);
  });

  it('goes 503 naming nats when NATS stops, and back to 200 when it returns', async () => {
    await env.nats.stop();
    const down = await readyz();
    expect(down.status).toBe(503);
    expect(down.body.checks.nats?.ok).toBe(false);
    expect(down.body.checks.postgres?.ok).toBe(true);

    await env.nats.start();
    await waitUntil('readyz 200 after NATS restart', async () => (await readyz()).status === 200, 20_000);
  });

  it('answers /healthz without touching any dependency', async () => {
    const app = createApp({ log: createLogger('test', 'error'), readinessProbes: {} });
    expect((await app.request('/healthz')).status).toBe(200);
  });
});
