// The event-log view of an aggregate: its events in order, paged by stream sequence.
import { z } from '@hono/zod-openapi';
import type { HistoryPage as Page } from '../events/history.ts';

export const HistoryQuery = z.object({
  after: z.coerce
    .number()
    .int()
    .min(0)
    .max(Number.MAX_SAFE_INTEGER)
    .optional()
    // A coerced number documents itself as nullable; a query string holds no null.
    .openapi({
      type: 'integer',
      minimum: 0,
      maximum: Number.MAX_SAFE_INTEGER,
      description: 'The next_after of the previous page',
    } as never),
  limit: z.coerce.number().int().min(1).max(1000).default(100).openapi({ description: 'Commits per page' }),
});

export const HistoryEvent = z
  .object({
    sequence: z.number().int(),
    id: z.string(),
    type: z.string(),
    version: z.number().int(),
    occurred_at: z.string(),
    correlation_id: z.string(),
    causation_id: z.string(),
    api_key_id: z.string().nullable().openapi({
      description: 'The API key the request that caused the event was made with; null otherwise',
    }),
    data: z.record(z.string(), z.unknown()),
  })
  .openapi('HistoryEvent');

export const HistoryPage = z
  .object({ items: z.array(HistoryEvent), next_after: z.number().int().nullable() })
  .openapi('HistoryPage');

export function historyJson(page: Page) {
  return {
    items: page.entries.map(({ sequence, event }) => ({
      sequence,
      id: event.id,
      type: event.type,
      version: event.version,
      occurred_at: event.occurredAt,
      correlation_id: event.correlationId,
      causation_id: event.causationId,
      api_key_id: event.apiKeyId ?? null,
      data: event.data as Record<string, unknown>,
    })),
    next_after: page.next,
  };
}
