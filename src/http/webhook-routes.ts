// /webhooks: outbound webhooks (docs/webhooks.md). A subscription names an HTTPS URL (or HTTP to a
// network the operator allows), the event types it wants (the `type`s of GET /events) and all the
// user's workflows or one. Its signing secret is answered once, at creation; it is kept sealed
// (CV_SECRETS_KEYS) because the worker must sign with it. The projector delivers; the delivery log is
// GET /webhooks/{id}/deliveries. Owner only (404 for anyone else); an API key needs `write` to change.
import { randomBytes, randomUUID } from 'node:crypto';
import { createRoute, z } from '@hono/zod-openapi';
import type { AuthServices } from '../auth/auth-services.ts';
import type { Config } from '../config/config.ts';
import { ValidationError } from '../errors.ts';
import { WEBHOOK_EVENT_TYPES } from '../events/webhook-event-types.ts';
import { loadSecretBox, type SecretBox } from '../infra/secret-box.ts';
import type { Db } from '../queries/db.ts';
import { mapPage } from '../queries/paging.ts';
import {
  createWebhook,
  deleteWebhook,
  getWebhook,
  listDeliveries,
  listWebhooks,
  MAX_WEBHOOKS_PER_USER,
  ownsWorkflow,
  updateWebhook,
  type Webhook,
  type WebhookDelivery,
} from '../queries/webhooks.ts';
import { createRouter } from './app-env.ts';
import { endpointPolicyOf } from './endpoint-check.ts';
import { json, security } from './openapi-helpers.ts';
import { commonErrors, ProblemSchema } from './problem-schema.ts';
import { requireAuth } from './require-auth.ts';
import { uuidParam } from './schemas/id-schemas.ts';
import { refuseBadWebhookUrl } from './webhook-check.ts';

const tags = ['webhooks'];

const EventType = z.enum(WEBHOOK_EVENT_TYPES).openapi('WebhookEventType', {
  description: 'A workflow or job event type, as in the `type` of GET /events (docs/events.md)',
});

const Url = z
  .string()
  .max(2048)
  .regex(/^https?:\/\/\S+$/, 'must be an https:// (or http://) URL')
  .openapi({
    description:
      'Where deliveries are POSTed. https://; http:// only to networks the operator allows (422 insecure_url); never an internal address the operator has not allowed (422 url_not_allowed); 422 invalid_url if it does not parse',
    example: 'https://hooks.example.com/chronoverse',
  });

const WebhookJson = z
  .object({
    id: z.string(),
    url: z.string(),
    event_types: z.array(EventType),
    workflow_id: z
      .string()
      .nullable()
      .openapi({ description: 'The one workflow it is for; null: all of them' }),
    enabled: z.boolean(),
    disabled_reason: z
      .enum(['consecutive_failures', 'user'])
      .nullable()
      .openapi({ description: 'Why it is disabled: too many failed deliveries in a row, or the user' }),
    consecutive_failures: z.number().int(),
    created_at: z.string(),
    updated_at: z.string(),
  })
  .openapi('Webhook');

const CreatedWebhookJson = WebhookJson.extend({
  secret: z.string().openapi({
    description:
      'Signs every delivery (header Chronoverse-Signature, docs/webhooks.md). Shown once; kept sealed for signing.',
    example: 'whsec_…',
  }),
}).openapi('CreatedWebhook');

const WebhookPage = z
  .object({ items: z.array(WebhookJson), next_cursor: z.string().nullable() })
  .openapi('WebhookPage');

const DeliveryStatus = z.enum(['pending', 'delivered', 'failed']).openapi('WebhookDeliveryStatus', {
  description:
    '`pending`: to be sent (again) at next_attempt_at; `delivered`: a 2xx came back; `failed`: given up after the max age',
});

const DeliveryJson = z
  .object({
    id: z.string().openapi({ description: 'Also sent as the Chronoverse-Delivery-Id header' }),
    event_id: z.string().openapi({ description: 'The event (body `id`, header Chronoverse-Event-Id)' }),
    event_type: z.string(),
    workflow_id: z.string(),
    status: DeliveryStatus,
    attempts: z.number().int(),
    last_status_code: z.number().int().nullable(),
    last_error: z.string().nullable(),
    next_attempt_at: z.string().nullable(),
    created_at: z.string(),
    delivered_at: z.string().nullable(),
  })
  .openapi('WebhookDelivery');

const DeliveryPage = z
  .object({ items: z.array(DeliveryJson), next_cursor: z.string().nullable() })
  .openapi('WebhookDeliveryPage');

const EventTypes = z
  .array(EventType)
  .min(1)
  .max(WEBHOOK_EVENT_TYPES.length)
  .openapi({ description: 'The event types to deliver', example: ['JobCompleted', 'JobFailed'] });

const WorkflowId = z
  .string()
  .regex(/^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/, 'must be a UUID')
  .openapi({
    format: 'uuid',
    description: 'Only this workflow’s events (one of yours: 422 webhook_workflow_not_found otherwise)',
  });

const CreateBody = z
  .strictObject({ url: Url, event_types: EventTypes, workflow_id: WorkflowId.optional() })
  .openapi('CreateWebhook');

const UpdateBody = z
  .strictObject({
    url: Url.optional(),
    event_types: EventTypes.optional(),
    workflow_id: WorkflowId.nullable().optional().openapi({ description: 'null: all workflows' }),
    enabled: z.boolean().optional().openapi({
      description:
        'true enables a disabled subscription again: its failure count restarts and its pending deliveries are sent',
    }),
  })
  .openapi('UpdateWebhook');

const ListQuery = z.object({
  cursor: z.string().max(512).optional(),
  limit: z.coerce.number().int().min(1).max(100).default(50),
});

const DeliveryQuery = ListQuery.extend({ status: DeliveryStatus.optional() });

const IdParams = z.object({ id: uuidParam('id') });

const problem = (description: string) => ({
  content: { 'application/problem+json': { schema: ProblemSchema } },
  description,
});

const writeErrors = {
  403: problem(
    'An API key without the write scope (insufficient_scope), or a cookie write without X-CSRF-Token',
  ),
} as const;

export interface WebhookRouteDeps {
  readonly db: Db;
  readonly config: Config;
  readonly auth: Pick<AuthServices, 'tokens' | 'apiKeys'>;
  readonly now?: () => Date;
}

/** A new signing secret: `whsec_` and 32 random bytes. */
function newWebhookSecret(): string {
  return `whsec_${randomBytes(32).toString('base64url')}`;
}

function webhookJson(w: Webhook) {
  return {
    id: w.id,
    url: w.url,
    event_types: w.event_types as z.infer<typeof EventType>[],
    workflow_id: w.workflow_id,
    enabled: w.enabled,
    disabled_reason: w.disabled_reason as 'consecutive_failures' | 'user' | null,
    consecutive_failures: w.consecutive_failures,
    created_at: w.created_at.toISOString(),
    updated_at: w.updated_at.toISOString(),
  };
}

function deliveryJson(d: WebhookDelivery) {
  return {
    ...d,
    next_attempt_at: d.next_attempt_at?.toISOString() ?? null,
    created_at: d.created_at.toISOString(),
    delivered_at: d.delivered_at?.toISOString() ?? null,
  };
}

export function webhookRoutes(deps: WebhookRouteDeps) {
  const app = createRouter();
  const auth = requireAuth(deps.auth);
  const now = deps.now ?? (() => new Date());
  const policy = endpointPolicyOf(deps.config);
  let box: Promise<SecretBox> | undefined;
  const secretBox = () => (box ??= loadSecretBox(deps.config));

  const refuseForeignWorkflow = async (userId: string, workflowId: string | null | undefined) => {
    if (workflowId && !(await ownsWorkflow(deps.db, userId, workflowId))) {
      throw new ValidationError('webhook_workflow_not_found', 'workflow_id: no such workflow of yours', {
        field: 'workflow_id',
      });
    }
  };

  app.openapi(
    createRoute({
      method: 'post',
      path: '/webhooks',
      tags,
      security,
      middleware: [auth] as const,
      summary: 'Subscribe a URL to events',
      description: `Every event of the chosen types (of all your workflows, or of one) that occurs from now on is POSTed to the URL as JSON, signed (docs/webhooks.md), retried with backoff for up to a day, in order per workflow. At most ${MAX_WEBHOOKS_PER_USER} per user (409 too_many_webhooks).`,
      request: { body: { content: { 'application/json': { schema: CreateBody } }, required: true } },
      responses: {
        201: json(CreatedWebhookJson, 'The subscription, with its signing secret (shown this once)'),
        ...commonErrors,
        ...writeErrors,
        409: problem(`The caller already holds ${MAX_WEBHOOKS_PER_USER} webhooks (too_many_webhooks)`),
      },
    }),
    async (c) => {
      const body = c.req.valid('json');
      const userId = c.var.userId;
      await refuseBadWebhookUrl(body.url, policy);
      await refuseForeignWorkflow(userId, body.workflow_id);
      const secret = newWebhookSecret();
      const at = now();
      const created = await createWebhook(deps.db, {
        id: randomUUID(),
        user_id: userId,
        url: body.url,
        event_types: [...new Set(body.event_types)],
        workflow_id: body.workflow_id ?? null,
        secret_sealed: (await secretBox()).seal(secret),
        enabled: true,
        disabled_reason: null,
        consecutive_failures: 0,
        created_at: at,
        updated_at: at,
      });
      return c.json({ ...webhookJson(created), secret }, 201);
    },
  );

  app.openapi(
    createRoute({
      method: 'get',
      path: '/webhooks',
      tags,
      security,
      middleware: [auth] as const,
      summary: 'The caller’s webhooks',
      request: { query: ListQuery },
      responses: { 200: json(WebhookPage, 'Newest first; secrets are not shown'), ...commonErrors },
    }),
    async (c) => {
      const q = c.req.valid('query');
      const page = await listWebhooks(deps.db, c.var.userId, { cursor: q.cursor, limit: q.limit });
      return c.json(mapPage(page, webhookJson), 200);
    },
  );

  app.openapi(
    createRoute({
      method: 'get',
      path: '/webhooks/{id}',
      tags,
      security,
      middleware: [auth] as const,
      summary: 'One webhook',
      request: { params: IdParams },
      responses: { 200: json(WebhookJson, 'The subscription (its secret is not shown)'), ...commonErrors },
    }),
    async (c) => c.json(webhookJson(await getWebhook(deps.db, c.var.userId, c.req.valid('param').id)), 200),
  );

  app.openapi(
    createRoute({
      method: 'patch',
      path: '/webhooks/{id}',
      tags,
      security,
      middleware: [auth] as const,
      summary: 'Change a webhook, or enable or disable it',
      request: {
        params: IdParams,
        body: { content: { 'application/json': { schema: UpdateBody } }, required: true },
      },
      responses: { 200: json(WebhookJson, 'The subscription as changed'), ...commonErrors, ...writeErrors },
    }),
    async (c) => {
      const body = c.req.valid('json');
      const userId = c.var.userId;
      const id = c.req.valid('param').id;
      await getWebhook(deps.db, userId, id);
      if (body.url !== undefined) await refuseBadWebhookUrl(body.url, policy);
      await refuseForeignWorkflow(userId, body.workflow_id);
      const updated = await updateWebhook(
        deps.db,
        userId,
        id,
        {
          ...(body.url !== undefined ? { url: body.url } : {}),
          ...(body.event_types !== undefined ? { event_types: [...new Set(body.event_types)] } : {}),
          ...(body.workflow_id !== undefined ? { workflow_id: body.workflow_id } : {}),
          ...(body.enabled !== undefined ? { enabled: body.enabled } : {}),
        },
        now(),
      );
      return c.json(webhookJson(updated), 200);
    },
  );

  app.openapi(
    createRoute({
      method: 'delete',
      path: '/webhooks/{id}',
      tags,
      security,
      middleware: [auth] as const,
      summary: 'Delete a webhook',
      description: 'Nothing more is sent for it, and its delivery log goes with it.',
      request: { params: IdParams },
      responses: { 204: { description: 'Deleted' }, ...commonErrors, ...writeErrors },
    }),
    async (c) => {
      await deleteWebhook(deps.db, c.var.userId, c.req.valid('param').id);
      return c.body(null, 204);
    },
  );

  app.openapi(
    createRoute({
      method: 'get',
      path: '/webhooks/{id}/deliveries',
      tags,
      security,
      middleware: [auth] as const,
      summary: 'A webhook’s delivery log',
      description:
        'One delivery per event sent (or to be sent) to the subscription: its status, attempts, last answer or error, and when it is tried next.',
      request: { params: IdParams, query: DeliveryQuery },
      responses: { 200: json(DeliveryPage, 'Newest first'), ...commonErrors },
    }),
    async (c) => {
      const q = c.req.valid('query');
      const page = await listDeliveries(deps.db, c.var.userId, c.req.valid('param').id, {
        cursor: q.cursor,
        limit: q.limit,
        status: q.status,
      });
      return c.json(mapPage(page, deliveryJson), 200);
    },
  );

  return app;
}
