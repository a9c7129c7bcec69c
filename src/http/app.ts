// The Hono application: routes mounted on one app with one error handler.
import { Hono } from 'hono';
import type { Probe } from '../health/readiness.ts';
import type { Logger } from '../telemetry/logger.ts';
import { healthRoutes } from './health-routes.ts';
import { notFound, onError } from './problem.ts';

export interface AppDeps {
  log: Logger;
  readinessProbes: Record<string, Probe>;
}

export function createApp(deps: AppDeps): Hono {
  const app = new Hono();
  app.route('/', healthRoutes(deps.readinessProbes));
  app.notFound(notFound);
  app.onError(onError(deps.log));
  return app;
}
