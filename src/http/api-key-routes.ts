// /api-keys: keys for automation (CI, scripts, the command-line client). Creating one answers its
// secret once (only its SHA-256 is kept); the list shows creation, expiry and last use; revoking one
// refuses it within a second on every API process (src/auth/api-keys.ts). Only a login (access token
// or the session cookie) manages keys: a key cannot create, list or revoke keys.
import { createRoute, z } from '@hono/zod-openapi';
import { API_KEY_SCOPES, type ApiKey } from '../auth/api-keys.ts';
import type { AuthServices } from '../auth/auth-services.ts';
import { ValidationError } from '../errors.ts';
import { createRouter } from './app-env.ts';
import { json, security } from './openapi-helpers.ts';
import { commonErrors, ProblemSchema } from './problem-schema.ts';
import { requireAuth } from './require-auth.ts';
import { uuidParam } from './schemas/id-schemas.ts';

const tags = ['api-keys'];

const Scope = z.enum(API_KEY_SCOPES).openapi('ApiKeyScope', {
  description: '`read`: GET and HEAD only; `write`: every other method too',
});

const ApiKeyJson = z
  .object({
    id: z.string(),
    name: z.string(),
    scopes: z.array(Scope),
    prefix: z.string().openapi({ description: 'How every key starts', example: 'cvk_' }),
    created_at: z.string(),
    expires_at: z.string().nullable(),
    last_used_at: z
      .string()
      .nullable()
      .openapi({ description: 'The last request made with the key (to within a minute); null if none' }),
  })
  .openapi('ApiKey');

const CreatedApiKeyJson = ApiKeyJson.extend({
  key: z.string().openapi({
    description: 'Send as `Authorization: Bearer <key>`. Shown once: only its SHA-256 is kept.',
    example: 'cvk_3q2+…',
  }),
}).openapi('CreatedApiKey');

const ApiKeyList = z.object({ items: z.array(ApiKeyJson) }).openapi('ApiKeyList');

const CreateBody = z
  .strictObject({
    name: z
      .string()
      .min(1)
      .max(100)
      .openapi({ description: 'What the key is for (shown in the list)', example: 'ci deploy' }),
    scopes: z
      .array(Scope)
      .min(1)
      .max(2)
      .openapi({ description: 'What the key may do', example: ['read', 'write'] }),
    expires_at: z.iso.datetime({ offset: true }).optional().openapi({
      description:
        'When the key stops working (must be in the future: 422 expires_at_in_past); never if left out',
    }),
  })
  .openapi('CreateApiKey');

const problem = (description: string) => ({
  content: { 'application/problem+json': { schema: ProblemSchema } },
  description,
});

const keyErrors = {
  403: problem(
    'Made with an API key (api_key_not_allowed: keys are managed by a login only), or a cookie-authenticated write without its X-CSRF-Token (csrf_token_mismatch)',
  ),
} as const;

export interface ApiKeyRouteDeps {
  readonly auth: Pick<AuthServices, 'tokens' | 'apiKeys'>;
  readonly now?: () => Date;
}

function keyJson(k: ApiKey) {
  return {
    id: k.id,
    name: k.name,
    scopes: [...k.scopes],
    prefix: 'cvk_',
    created_at: k.createdAt.toISOString(),
    expires_at: k.expiresAt?.toISOString() ?? null,
    last_used_at: k.lastUsedAt?.toISOString() ?? null,
  };
}

export function apiKeyRoutes(deps: ApiKeyRouteDeps) {
  const app = createRouter();
  const auth = requireAuth(deps.auth, { keys: 'refuse' });
  const now = deps.now ?? (() => new Date());

  app.openapi(
    createRoute({
      method: 'post',
      path: '/api-keys',
      tags,
      security,
      middleware: [auth] as const,
      summary: 'Create an API key',
      description:
        'A key for automation, sent as `Authorization: Bearer <key>`. It acts as the caller within its scopes; it cannot manage keys or NATS credentials. A user holds at most 100 keys (409 too_many_api_keys).',
      request: { body: { content: { 'application/json': { schema: CreateBody } }, required: true } },
      responses: {
        201: json(CreatedApiKeyJson, 'The key, with its secret (shown this once)'),
        ...commonErrors,
        ...keyErrors,
        409: problem('The caller already holds 100 keys (too_many_api_keys)'),
      },
    }),
    async (c) => {
      const body = c.req.valid('json');
      const expiresAt = body.expires_at === undefined ? null : new Date(body.expires_at);
      if (expiresAt && expiresAt.getTime() <= now().getTime()) {
        throw new ValidationError('expires_at_in_past', 'expires_at: must be in the future', {
          field: 'expires_at',
        });
      }
      const created = await deps.auth.apiKeys.create(c.var.userId, {
        name: body.name,
        scopes: body.scopes,
        expiresAt,
      });
      return c.json({ ...keyJson(created), key: created.key }, 201);
    },
  );

  app.openapi(
    createRoute({
      method: 'get',
      path: '/api-keys',
      tags,
      security,
      middleware: [auth] as const,
      summary: 'The caller’s API keys',
      responses: {
        200: json(ApiKeyList, 'Those not revoked (expired ones too), newest first; secrets are not shown'),
        ...commonErrors,
        ...keyErrors,
      },
    }),
    async (c) => c.json({ items: (await deps.auth.apiKeys.list(c.var.userId)).map(keyJson) }, 200),
  );

  app.openapi(
    createRoute({
      method: 'delete',
      path: '/api-keys/{id}',
      tags,
      security,
      middleware: [auth] as const,
      summary: 'Revoke an API key',
      description: 'Requests with the key are refused from now on: by every API process within a second.',
      request: { params: z.object({ id: uuidParam('id') }) },
      responses: { 204: { description: 'Revoked' }, ...commonErrors, ...keyErrors },
    }),
    async (c) => {
      await deps.auth.apiKeys.revoke(c.var.userId, c.req.valid('param').id);
      return c.body(null, 204);
    },
  );

  return app;
}
