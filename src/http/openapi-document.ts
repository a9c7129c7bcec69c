// The OpenAPI document as a client needs it, completed in one place from what the whole API does:
// every operation's id and summary (for generated clients), the answers that come from the layers
// every request passes (authentication, CSRF, the request limits, malformed JSON, store outages, each
// with its problem shape and Retry-After where it has one), and the links from what a request
// creates to the operations that take it. Route-specific answers (404, 409, 412, 422 …) stay with
// their routes.

type Json = Record<string, unknown>;
type Operation = Json & { responses: Record<string, Json>; security?: unknown[]; requestBody?: unknown };

/** "METHOD path" → operationId and summary. A route missing here fails the document test. */
export const OPERATIONS: Record<string, { id: string; summary: string }> = {
  'GET /healthz': { id: 'getHealth', summary: 'The process is alive' },
  'GET /readyz': { id: 'getReadiness', summary: 'Whether every store answers, with latencies' },
  'POST /auth/register': { id: 'register', summary: 'Create an account' },
  'POST /auth/login': { id: 'login', summary: 'Log in: a token pair in the body and the session cookies' },
  'POST /auth/refresh': { id: 'refreshTokens', summary: 'Exchange a refresh token for a new pair' },
  'POST /auth/logout': { id: 'logout', summary: 'End the session' },
  'GET /users/me': { id: 'getMe', summary: 'The caller' },
  'PATCH /users/me': { id: 'updateMe', summary: 'Change the notification preference' },
  'GET /workflows': { id: 'listWorkflows', summary: 'The caller’s workflows, newest first' },
  'POST /workflows': { id: 'createWorkflow', summary: 'Create a workflow' },
  'GET /workflows/{id}': { id: 'getWorkflow', summary: 'One workflow' },
  'PUT /workflows/{id}': { id: 'updateWorkflow', summary: 'Change a workflow’s definition' },
  'DELETE /workflows/{id}': { id: 'deleteWorkflow', summary: 'Delete a terminated workflow and its logs' },
  'POST /workflows/{id}/pause': { id: 'pauseWorkflow', summary: 'Pause: no tick runs until resumed' },
  'POST /workflows/{id}/resume': { id: 'resumeWorkflow', summary: 'Resume, catching up as the policy says' },
  'POST /workflows/{id}/terminate': { id: 'terminateWorkflow', summary: 'Terminate for good' },
  'GET /workflows/{id}/history': {
    id: 'getWorkflowHistory',
    summary: 'The workflow’s events (its audit log)',
  },
  'GET /workflows/{id}/jobs': { id: 'listJobs', summary: 'The workflow’s jobs, newest first' },
  'POST /workflows/{id}/backfill': {
    id: 'backfillWorkflow',
    summary: 'Fire the schedule’s past ticks in a range',
  },
  'GET /workflows/{id}/backfills': {
    id: 'listBackfills',
    summary: 'The workflow’s backfills, with progress',
  },
  'POST /workflows/{id}/jobs/schedule': { id: 'runWorkflowNow', summary: 'Run the workflow now' },
  'GET /workflows/{id}/jobs/{jobId}': { id: 'getJob', summary: 'One job' },
  'POST /workflows/{id}/jobs/{jobId}/cancel': { id: 'cancelJob', summary: 'Cancel a job that has not ended' },
  'GET /workflows/{id}/jobs/{jobId}/history': { id: 'getJobHistory', summary: 'The job’s events' },
  'GET /workflows/{id}/ticks': { id: 'listTicks', summary: 'The tick ledger: every tick, fired or skipped' },
  'GET /workflows/{id}/schedule/preview': { id: 'previewSchedule', summary: 'The next fire times' },
  'GET /notifications': { id: 'listNotifications', summary: 'The caller’s notifications' },
  'POST /notifications/read': { id: 'markNotificationsRead', summary: 'Mark notifications read' },
  'GET /analytics': { id: 'getAnalytics', summary: 'The caller’s totals' },
  'GET /analytics/workflows/{id}': { id: 'getWorkflowAnalytics', summary: 'One workflow’s totals' },
  'GET /analytics/series': {
    id: 'getAnalyticsSeries',
    summary: 'Jobs, durations, lateness and log lines over time',
  },
  'GET /workflows/{id}/jobs/{jobId}/logs': { id: 'listJobLogs', summary: 'A page of the job’s log lines' },
  'GET /workflows/{id}/jobs/{jobId}/logs/search': { id: 'searchJobLogs', summary: 'Search the job’s log' },
  'GET /workflows/{id}/jobs/{jobId}/logs/raw': { id: 'downloadJobLog', summary: 'The job’s whole log' },
  'GET /workflows/{id}/jobs/{jobId}/events': { id: 'streamJobLog', summary: 'The job’s log, live (SSE)' },
  'GET /events': { id: 'streamEvents', summary: 'The caller’s state changes and notifications, live (SSE)' },
  'POST /integrations/nats-credentials': {
    id: 'issueNatsCredential',
    summary: 'Issue a NATS credential for an integrator',
  },
  'GET /integrations/nats-credentials': {
    id: 'listNatsCredentials',
    summary: 'The caller’s NATS credentials',
  },
  'DELETE /integrations/nats-credentials/{id}': {
    id: 'revokeNatsCredential',
    summary: 'Revoke a NATS credential',
  },
  'POST /api-keys': { id: 'createApiKey', summary: 'Create an API key' },
  'GET /api-keys': { id: 'listApiKeys', summary: 'The caller’s API keys' },
  'DELETE /api-keys/{id}': { id: 'revokeApiKey', summary: 'Revoke an API key' },
  'POST /webhooks': { id: 'createWebhook', summary: 'Subscribe a URL to events' },
  'GET /webhooks': { id: 'listWebhooks', summary: 'The caller’s webhooks' },
  'GET /webhooks/{id}': { id: 'getWebhook', summary: 'One webhook' },
  'PATCH /webhooks/{id}': { id: 'updateWebhook', summary: 'Change a webhook, or enable or disable it' },
  'DELETE /webhooks/{id}': { id: 'deleteWebhook', summary: 'Delete a webhook' },
  'GET /webhooks/{id}/deliveries': { id: 'listWebhookDeliveries', summary: 'A webhook’s delivery log' },
};

const problem = (description: string, headers?: Json): Json => ({
  description,
  ...(headers ? { headers } : {}),
  content: { 'application/problem+json': { schema: { $ref: '#/components/schemas/Problem' } } },
});

const RETRY_AFTER = {
  'Retry-After': {
    description: 'Seconds to wait before trying again',
    schema: { type: 'integer', minimum: 1 },
  },
};

/** The links of what a request creates, by "METHOD path" and status. */
const LINKS: Record<string, Record<string, Record<string, Json>>> = {
  'POST /webhooks': {
    '201': {
      GetWebhook: { operationId: 'getWebhook', parameters: { id: '$response.body#/id' } },
      ListWebhookDeliveries: {
        operationId: 'listWebhookDeliveries',
        parameters: { id: '$response.body#/id' },
      },
    },
  },
  'POST /workflows': {
    '201': {
      GetWorkflow: { operationId: 'getWorkflow', parameters: { id: '$response.body#/id' } },
      UpdateWorkflow: { operationId: 'updateWorkflow', parameters: { id: '$response.body#/id' } },
      DeleteWorkflow: { operationId: 'deleteWorkflow', parameters: { id: '$response.body#/id' } },
      RunWorkflowNow: { operationId: 'runWorkflowNow', parameters: { id: '$response.body#/id' } },
    },
  },
  'POST /workflows/{id}/jobs/schedule': {
    '201': {
      GetJob: {
        operationId: 'getJob',
        parameters: { id: '$request.path.id', jobId: '$response.body#/job_id' },
      },
    },
  },
};

const METHODS = ['get', 'put', 'post', 'delete', 'patch', 'head', 'options'] as const;

/** Adds what every operation answers because of the layers it passes, and names each operation. */
export function completeDocument<D extends object>(doc: D): D {
  const paths = ((doc as Json).paths ?? {}) as Record<string, Record<string, Operation>>;
  for (const [path, item] of Object.entries(paths)) {
    for (const method of METHODS) {
      const op = item[method];
      if (!op) continue;
      const key = `${method.toUpperCase()} ${path}`;
      const named = OPERATIONS[key];
      if (named) {
        op.operationId = named.id;
        op.summary ??= named.summary;
      }
      const secured = Array.isArray(op.security) && op.security.length > 0;
      if (!secured) op.security = [];
      const r = op.responses;
      if (secured) {
        r['401'] ??= problem('Not authenticated (no token, an expired or revoked one)');
        if (method !== 'get') {
          r['403'] ??= problem(
            'A cookie-authenticated write without its X-CSRF-Token (csrf_token_mismatch), or an API key without the write scope (insufficient_scope)',
          );
        }
      }
      if (op.requestBody) {
        r['400'] ??= problem('The body is not well-formed JSON (bad_request) or not UTF-8 (body_not_utf8)');
        r['413'] ??= problem('The body is larger than 1 MiB (body_too_large)');
        r['415'] ??= problem('The body is not JSON (unsupported_media_type)');
      }
      if (path !== '/healthz') {
        r['503'] ??= problem(
          'A store did not answer (event_log_unavailable, store_unavailable) or one actor is too busy (concurrency_conflict); nothing was written that a retry would repeat. Retry after the time given, with the same Idempotency-Key where the route takes one.',
          RETRY_AFTER,
        );
      }
      for (const [status, links] of Object.entries(LINKS[key] ?? {})) {
        const response = r[status];
        if (response) response.links = links;
      }
    }
  }
  return doc;
}
