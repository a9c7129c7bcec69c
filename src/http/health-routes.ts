// GET /healthz: the process is alive. GET /readyz: every dependency answers (503 when any does not).
import { Hono } from 'hono';
import { checkReadiness, type Probe } from '../health/readiness.ts';

export function healthRoutes(probes: Record<string, Probe>): Hono {
  return new Hono()
    .get('/healthz', (c) => c.json({ status: 'ok' }))
    .get('/readyz', async (c) => {
      const report = await checkReadiness(probes);
      return c.json(report, report.status === 'ok' ? 200 : 503);
    });
}
