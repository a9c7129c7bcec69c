// A CONTAINER payload's secret_env on its way in and out of the API: sealed before it becomes a
// command (so the log holds no clear value), shown as a mask in every answer.
import type { SecretBox } from '../infra/secret-box.ts';

export const SECRET_MASK = '********';

type Payload = Record<string, unknown> & { secret_env?: Record<string, string> };

/** The payload with every secret_env value sealed. */
export function sealSecrets<P extends Record<string, unknown>>(payload: P, box: SecretBox): P {
  const secrets = (payload as Payload).secret_env;
  if (!secrets || Object.keys(secrets).length === 0) return payload;
  return {
    ...payload,
    secret_env: Object.fromEntries(Object.entries(secrets).map(([k, v]) => [k, box.seal(v)])),
  };
}

/** The payload as an answer shows it: secret values masked. */
export function maskSecrets(payload: Record<string, unknown>): Record<string, unknown> {
  const secrets = (payload as Payload).secret_env;
  if (!secrets || typeof secrets !== 'object') return payload;
  return { ...payload, secret_env: Object.fromEntries(Object.keys(secrets).map((k) => [k, SECRET_MASK])) };
}
