// The problem+json error body, for the OpenAPI document.
import { z } from '@hono/zod-openapi';

export const ProblemSchema = z
  .object({
    type: z.string(),
    title: z.string(),
    status: z.number().int(),
    code: z.string().openapi({ description: 'Stable, machine-readable error code' }),
    detail: z.string(),
    field: z.string().optional().openapi({ description: 'The input that is wrong, for validation errors' }),
  })
  .openapi('Problem');

const problem = (description: string) => ({
  content: { 'application/problem+json': { schema: ProblemSchema } },
  description,
});

/** The error answers every authenticated route can give. */
export const commonErrors = {
  401: problem('Not authenticated'),
  404: problem('Not found, or not yours'),
  422: problem(
    'Invalid input: validation_failed (the field named), invalid_cursor (a cursor this API did not give out), nul_character (a NUL, U+0000, in any text)',
  ),
} as const;

export const conflictErrors = {
  409: problem('Not allowed in the current state'),
  412: problem('Precondition failed (If-Match, or the workflow is not terminated)'),
} as const;
