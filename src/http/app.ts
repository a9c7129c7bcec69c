// The Hono application: every router mounted on one app, authentication on the API's prefixes, one
// error handler, and the OpenAPI 3.1 document generated from the same schemas that validate requests.
import type { ClickHouseClient } from '@clickhouse/client';
import { httpInstrumentationMiddleware } from '@hono/otel';
import type { CommandHandler } from '../actors/command-handler.ts';
import type { AuthServices } from '../auth/auth-services.ts';
import type { Config } from '../config/config.ts';
import type { EventStore } from '../events/event-store.ts';
import type { ArchiveReader } from '../events/history.ts';
import { PROJECTIONS_HURRY_SUBJECT } from '../events/subjects.ts';
import type { Probe } from '../health/readiness.ts';
import type { Nats } from '../infra/nats-connection.ts';
import type { Db } from '../queries/db.ts';
import type { Logger } from '../telemetry/logger.ts';
import { telemetryStarted } from '../telemetry/tracing.ts';
import { dashboardRoutes } from '../web/routes.tsx';
import { analyticsRoutes } from './analytics-routes.ts';
import { apiKeyRoutes } from './api-key-routes.ts';
import { createRouter } from './app-env.ts';
import { authRoutes } from './auth-routes.ts';
import { backfillRoutes } from './backfill-routes.ts';
import { docsPage } from './docs-page.ts';
import { eventsRoutes } from './events-routes.ts';
import { healthRoutes } from './health-routes.ts';
import { integrationRoutes } from './integration-routes.ts';
import { jobRoutes } from './job-routes.ts';
import { logRoutes } from './log-routes.ts';
import { notificationRoutes } from './notification-routes.ts';
import { completeDocument } from './openapi-document.ts';
import { notFound, onError } from './problem.ts';
import { requestLimits } from './request-limits.ts';
import { requireAuth } from './require-auth.ts';
import { securityHeaders } from './security-headers.ts';
import { streamSources } from './sse-sources.ts';
import { tickRoutes } from './tick-routes.ts';
import { userMeRoutes } from './user-me-routes.ts';
import { webhookRoutes } from './webhook-routes.ts';
import { workflowRoutes } from './workflow-routes.ts';

export interface ApiDeps {
  readonly config: Config;
  readonly db: Db;
  readonly commands: CommandHandler;
  readonly events: EventStore;
  /** Finished jobs' commits moved out of the log by retention (src/projections/event-archive.ts). */
  readonly archive?: ArchiveReader;
  readonly auth: AuthServices;
  /** For the log and event streams; without them the app opens its own from the configuration. */
  readonly nats: Nats;
  readonly clickhouse: ClickHouseClient;
}

export interface AppDeps {
  readonly log: Logger;
  readonly readinessProbes: Record<string, Probe>;
  /** Without it the app serves health only (tests of readiness). */
  readonly api?: ApiDeps;
}

/** Path prefixes that need an authenticated user. */
export const protectedPrefixes = ['/workflows', '/notifications', '/analytics', '/events'] as const;

export function createApp(deps: AppDeps) {
  const app = createRouter();
  // A SERVER span per request named by its route (`POST /workflows/:id/jobs/schedule`) and the semantic
  // conventions' http.server.request.duration, only when the telemetry bootstrap started the SDK: off,
  // requests pay nothing. The span ends when the handler returns its response, so an event stream's
  // span is its opening, not its hours.
  if (telemetryStarted()) {
    app.use('*', httpInstrumentationMiddleware());
    // The middleware marks its span failed whenever a handler threw, and a refusal (404, 422…) is
    // thrown as an AppError: the semantic conventions keep a SERVER span's error status for 5xx, so a
    // refusal answered below 500 is not passed on to it as an error.
    app.use('*', async (c, next) => {
      await next();
      if (c.error && c.res.status < 500) c.error = undefined;
    });
  }
  for (const h of securityHeaders({ publicUrl: deps.api?.config.CV_PUBLIC_URL })) app.use('*', h);
  for (const limit of requestLimits()) app.use('*', limit);
  app.route('/', healthRoutes(deps.readinessProbes));
  if (deps.api) {
    const nats = deps.api.nats;
    const api = {
      ...deps.api,
      // A mutation's answer waits for the read models; the projector gathers less meanwhile.
      readModelWait: {
        hurry: () => {
          try {
            nats.nc.publish(PROJECTIONS_HURRY_SUBJECT);
          } catch {
            // The connection is closing: the wait is bounded, and the batch comes anyway.
          }
        },
      },
    };
    const authenticated = requireAuth(api.auth);
    for (const prefix of protectedPrefixes) {
      app.use(prefix, authenticated);
      app.use(`${prefix}/*`, authenticated);
    }
    app.route('/', authRoutes(api));
    app.route('/', userMeRoutes(api));
    app.route('/', workflowRoutes(api));
    app.route('/', jobRoutes(api));
    app.route('/', tickRoutes(api));
    app.route('/', backfillRoutes(api));
    app.route('/', notificationRoutes(api));
    app.route('/', apiKeyRoutes(api));
    app.route('/', webhookRoutes(api));
    app.route('/', integrationRoutes({ auth: api.auth, nats: api.nats, log: deps.log }));
    const sources = streamSources(api.config, { nats: api.nats, clickhouse: api.clickhouse });
    app.route('/', analyticsRoutes({ ...api, sources }));
    app.route('/', logRoutes({ ...api, sources, log: deps.log }));
    app.route('/', eventsRoutes({ ...api, sources, log: deps.log }));
    const documentConfig = {
      openapi: '3.1.0',
      info: {
        title: 'Chronoverse API',
        version: '0.1.0',
        description:
          'Workflows that fire on a schedule; every fire is a job. Errors are application/problem+json with a stable code. A path asked with a method it does not have answers 405 (method_not_allowed) with an Allow header listing the methods it has; a path the API does not have answers 404 (route_not_found).',
      },
      servers: [
        { url: api.config.CV_PUBLIC_URL ?? `http://${api.config.CV_HTTP_HOST}:${api.config.CV_HTTP_PORT}` },
      ],
    };
    // Built once, on the first request: the routes are all mounted by then and never change.
    let document: object | undefined;
    app.get('/openapi.json', (c) => {
      document ??= completeDocument(app.getOpenAPI31Document(documentConfig as never));
      return c.json(document);
    });
    app.get('/docs', (c) => c.html(docsPage('/openapi.json')));
    app.route('/', dashboardRoutes({ ...api, log: deps.log }));
  }
  app.notFound(notFound(() => app.routes));
  app.onError(onError(deps.log));
  return app;
}
