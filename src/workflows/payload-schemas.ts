// The payloads of the two workflow kinds, with the original Chronoverse's defaults and limits. The
// API validates with them and the executor reads with them, so both agree on what a payload means.
import { z } from '@hono/zod-openapi';
import { parseDuration } from './duration.ts';

/** What parseDuration reads; the document states it, so a client can check before it sends. */
const DURATION_PATTERN = '^\\s*([0-9]+(\\.[0-9]+)?(ms|s|m|h))+\\s*$';

const duration = (fallback: string, maxMs: number, what: string) =>
  z
    .string()
    .default(fallback)
    .refine((v) => parseDuration(v) !== undefined, { message: 'a duration such as "30s", "5m" or "1h30m"' })
    .refine((v) => (parseDuration(v) ?? 0) > 0 && (parseDuration(v) ?? 0) <= maxMs, {
      message: `${what} must be more than 0 and at most ${maxMs / 60_000} minutes`,
    })
    .openapi({
      pattern: DURATION_PATTERN,
      description: `A duration such as "30s", "5m" or "1h30m" (units ms, s, m, h), more than 0 and at most ${maxMs / 60_000} minutes. Default ${fallback}.`,
      // Read by the contract test's request generator: a bound that a pattern cannot state.
      'x-maximum-ms': maxMs,
    } as never);

export const HeartbeatPayload = z
  .strictObject({
    endpoint: z
      .string()
      .url()
      .refine((u) => /^https?:\/\//i.test(u), { message: 'endpoint must be an http or https URL' })
      .openapi({
        format: 'uri',
        pattern: '^[Hh][Tt][Tt][Pp][Ss]?://',
        description:
          'An http or https URL. Loopback, private, link-local and other internal addresses (by address or by a name resolving to one) are refused with 422 endpoint_not_allowed unless the operator allows them (CV_HEARTBEAT_ALLOWED_NETWORKS); redirects are not followed.',
      }),
    expected_status_code: z.number().int().min(100).max(599).default(200),
    headers: z.record(z.string(), z.union([z.string(), z.array(z.string())])).default({}),
    timeout: duration('10s', 5 * 60_000, 'timeout'),
  })
  .openapi('HeartbeatPayload');

export const ContainerPayload = z
  .strictObject({
    image: z.string().min(1).max(255),
    cmd: z.array(z.string().max(4096)).max(256).default([]),
    env: z
      .record(
        z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'environment names are letters, digits and _'),
        z.string().max(32_768),
      )
      .default({})
      .openapi({ propertyNames: { pattern: '^[A-Za-z_][A-Za-z0-9_]*$' } } as never),
    secret_env: z
      .record(
        z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'environment names are letters, digits and _'),
        z.string().max(32_768),
      )
      .default({})
      .openapi({
        propertyNames: { pattern: '^[A-Za-z_][A-Za-z0-9_]*$' },
        description:
          'Environment values kept secret: sealed (AES-256-GCM) before they are stored, never returned (a workflow shows each as "********"), given to the container as env. An update whose payload leaves secret_env out keeps the secrets; secret_env: {} removes them; any other replaces them.',
      } as never),
    timeout: duration('30s', 60 * 60_000, 'timeout'),
    resources: z
      .strictObject({
        cpus: z.number().positive().max(64).optional(),
        memory_mb: z.number().int().min(6).max(65_536).optional(),
        pids: z.number().int().min(1).max(32_768).optional(),
      })
      .optional(),
    network: z.enum(['none', 'bridge']).default('none'),
  })
  .openapi('ContainerPayload');

export type HeartbeatSpec = z.infer<typeof HeartbeatPayload>;
export type ContainerSpec = z.infer<typeof ContainerPayload>;
