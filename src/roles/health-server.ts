// /healthz and /readyz on a port of their own (CV_HEALTH_PORT), for a process that serves no API: a
// kubelet or Docker's HEALTHCHECK asks the scheduler, projector and executor there. The answers are
// the API's (src/http/health-routes.ts), on the readiness probes of the process's own roles.
import type { Server } from 'node:http';
import { serve } from '@hono/node-server';
import { Hono } from 'hono';
import type { Probe } from '../health/readiness.ts';
import { healthRoutes } from '../http/health-routes.ts';

export interface HealthServer {
  readonly url: string;
  stop(): Promise<void>;
}

export async function startHealthServer(
  probes: Record<string, Probe>,
  options: { hostname: string; port: number },
): Promise<HealthServer> {
  const app = new Hono().route('/', healthRoutes(probes));
  const server = await new Promise<Server>((resolve, reject) => {
    const s = serve({ fetch: app.fetch, hostname: options.hostname, port: options.port }, () =>
      resolve(s as Server),
    );
    (s as Server).once('error', reject);
  });
  return {
    url: `http://${options.hostname}:${options.port}`,
    stop: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
