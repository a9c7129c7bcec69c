// /integrations/nats-credentials: NATS credentials an integrator reads the caller's events and job logs
// with, straight from JetStream. Issuing one creates its two pull consumers (events, logs) and answers
// its token once; the API's auth callout (src/auth/nats-auth-callout.ts) admits that token to a
// nats-server configured for integrators (docs/security.md), with permissions that reach the caller's
// subjects and consumers only. Revoking refuses the token from the next connection on and deletes the
// consumers.
import { createRoute, z } from '@hono/zod-openapi';
import type { AuthServices } from '../auth/auth-services.ts';
import type { NatsCredential } from '../auth/nats-credentials.ts';
import {
  createIntegratorConsumers,
  deleteIntegratorConsumers,
  integratorAccess,
} from '../events/integrator-access.ts';
import type { Nats } from '../infra/nats-connection.ts';
import type { Logger } from '../telemetry/logger.ts';
import { createRouter } from './app-env.ts';
import { json, security } from './openapi-helpers.ts';
import { commonErrors, ProblemSchema } from './problem-schema.ts';
import { requireAuth } from './require-auth.ts';
import { uuidParam } from './schemas/id-schemas.ts';

const tags = ['integrations'];

const Consumer = z
  .object({
    stream: z.string().openapi({ example: 'CV_EVENTS' }),
    name: z.string().openapi({ description: 'Durable pull consumer; its filter is fixed to your subjects' }),
    filter_subject: z.string(),
  })
  .openapi('NatsConsumer');

const NatsCredentialJson = z
  .object({
    id: z.string(),
    name: z.string(),
    user_id: z.string(),
    created_at: z.string(),
    inbox_prefix: z.string().openapi({
      description:
        'Connect with this inbox prefix: replies and pulled messages arrive under it, and nowhere else',
    }),
    api_prefix: z.string().openapi({
      description:
        'The JetStream API prefix to use (e.g. jetstream(nc, { apiPrefix })): the consumers are reached under it',
      example: '$CV.API',
    }),
    subjects: z
      .object({ events: z.string(), logs: z.string() })
      .openapi({ description: 'What a live (core NATS) subscription may follow' }),
    consumers: z.array(Consumer),
  })
  .openapi('NatsCredential');

const IssuedNatsCredential = NatsCredentialJson.extend({
  token: z.string().openapi({
    description:
      'Connect to NATS with this token (the `token` connection option). Shown once: only its SHA-256 is kept.',
  }),
}).openapi('IssuedNatsCredential');

const NatsCredentialList = z.object({ items: z.array(NatsCredentialJson) }).openapi('NatsCredentialList');

const IssueBody = z
  .strictObject({
    name: z
      .string()
      .min(1)
      .max(100)
      .openapi({ description: 'What the credential is for (shown in the list)', example: 'billing sync' }),
  })
  .openapi('IssueNatsCredential');

const keyRefused = {
  403: {
    content: { 'application/problem+json': { schema: ProblemSchema } },
    description:
      'Made with an API key (api_key_not_allowed: credentials are managed by a login only), or a cookie-authenticated write without its X-CSRF-Token (csrf_token_mismatch)',
  },
} as const;

const conflict = {
  409: {
    content: { 'application/problem+json': { schema: ProblemSchema } },
    description: 'The caller already holds 100 credentials (too_many_nats_credentials)',
  },
} as const;

export interface IntegrationRouteDeps {
  readonly auth: Pick<AuthServices, 'tokens' | 'apiKeys' | 'natsCredentials'>;
  readonly nats: Pick<Nats, 'jsm'>;
  readonly log: Logger;
}

function credentialJson(c: NatsCredential) {
  const access = integratorAccess(c.userId, c.id);
  return {
    id: c.id,
    name: c.name,
    user_id: c.userId,
    created_at: c.createdAt.toISOString(),
    inbox_prefix: access.inboxPrefix,
    api_prefix: access.apiPrefix,
    subjects: { ...access.subjects },
    consumers: access.consumers.map((k) => ({ ...k })),
  };
}

export function integrationRoutes(deps: IntegrationRouteDeps) {
  const app = createRouter();
  const auth = requireAuth(deps.auth, { keys: 'refuse' });

  app.openapi(
    createRoute({
      method: 'post',
      path: '/integrations/nats-credentials',
      tags,
      security,
      middleware: [auth] as const,
      summary: 'Issue a NATS credential for an integrator',
      description:
        'A token that lets a NATS client read the caller’s events (cv.evt.<user>.>) and job logs (cv.logs.<user>.>), live or through the two durable pull consumers created here, and nothing else. Needs a nats-server configured for integrators (`chronoverse nats-config`, docs/security.md).',
      request: { body: { content: { 'application/json': { schema: IssueBody } }, required: true } },
      responses: {
        201: json(IssuedNatsCredential, 'The credential, with its token (shown this once)'),
        ...commonErrors,
        ...keyRefused,
        ...conflict,
      },
    }),
    async (c) => {
      const { name } = c.req.valid('json');
      const issued = await deps.auth.natsCredentials.issue(c.var.userId, name, (credential) =>
        createIntegratorConsumers(deps.nats.jsm, integratorAccess(credential.userId, credential.id)),
      );
      return c.json({ ...credentialJson(issued), token: issued.token }, 201);
    },
  );

  app.openapi(
    createRoute({
      method: 'get',
      path: '/integrations/nats-credentials',
      tags,
      security,
      middleware: [auth] as const,
      summary: 'The caller’s NATS credentials',
      responses: {
        200: json(NatsCredentialList, 'Those not revoked, newest first (tokens are not shown)'),
        ...commonErrors,
        ...keyRefused,
      },
    }),
    async (c) => {
      const items = await deps.auth.natsCredentials.list(c.var.userId);
      return c.json({ items: items.map(credentialJson) }, 200);
    },
  );

  app.openapi(
    createRoute({
      method: 'delete',
      path: '/integrations/nats-credentials/{id}',
      tags,
      security,
      middleware: [auth] as const,
      summary: 'Revoke a NATS credential',
      description:
        'New connections with its token are refused at once and its consumers are deleted; a connection already open is closed by the server when its authorization ends (CV_NATS_SESSION_SECONDS).',
      request: { params: z.object({ id: uuidParam('id') }) },
      responses: { 204: { description: 'Revoked' }, ...commonErrors, ...keyRefused },
    }),
    async (c) => {
      const revoked = await deps.auth.natsCredentials.revoke(c.var.userId, c.req.valid('param').id);
      try {
        await deleteIntegratorConsumers(deps.nats.jsm, integratorAccess(revoked.userId, revoked.id));
      } catch (err) {
        // The credential is revoked (what matters); its consumers are left for an operator to delete.
        deps.log.warn('nats credential revoked, its consumers not deleted', {
          credential_id: revoked.id,
          error: err,
        });
      }
      return c.body(null, 204);
    },
  );

  return app;
}
