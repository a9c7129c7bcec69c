// GET /healthz: the process is alive. GET /readyz: every dependency answers (503 when any does not).
import { createRoute, z } from '@hono/zod-openapi';
import { checkReadiness, type Probe } from '../health/readiness.ts';
import { createRouter } from './app-env.ts';

const Check = z.object({ ok: z.boolean(), latency_ms: z.number(), error: z.string().optional() });
const Readiness = z
  .object({ status: z.enum(['ok', 'unavailable']), checks: z.record(z.string(), Check) })
  .openapi('Readiness');
const tags = ['health'];

export function healthRoutes(probes: Record<string, Probe>) {
  const app = createRouter();
  app.openapi(
    createRoute({
      method: 'get',
      path: '/healthz',
      tags,
      responses: {
        200: {
          content: { 'application/json': { schema: z.object({ status: z.literal('ok') }) } },
          description: 'Alive',
        },
      },
    }),
    (c) => c.json({ status: 'ok' as const }, 200),
  );
  app.openapi(
    createRoute({
      method: 'get',
      path: '/readyz',
      tags,
      responses: {
        200: {
          content: { 'application/json': { schema: Readiness } },
          description: 'Every dependency answers',
        },
        503: { content: { 'application/json': { schema: Readiness } }, description: 'A dependency is down' },
      },
    }),
    async (c) => {
      const report = await checkReadiness(probes);
      return report.status === 'ok' ? c.json(report, 200) : c.json(report, 503);
    },
  );
  return app;
}
