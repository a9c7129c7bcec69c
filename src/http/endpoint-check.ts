// A HEARTBEAT's endpoint, checked when a workflow is created or changed: an address the executors
// would refuse is a 422 now rather than a failed job later. A name is resolved here to tell the user
// early; the executor checks again on every connection, where it counts (a name may resolve
// elsewhere later).
import { lookup } from 'node:dns/promises';
import type { Config } from '../config/config.ts';
import { ValidationError } from '../errors.ts';
import { EndpointPolicy, literalAddress, parseNetworks } from '../infra/endpoint-policy.ts';

/** How long a name may take to resolve before the check gives up and leaves it to the executor. */
const RESOLVE_TIMEOUT_MS = 2000;

export function endpointPolicyOf(config: Pick<Config, 'CV_HEARTBEAT_ALLOWED_NETWORKS'>): EndpointPolicy {
  return new EndpointPolicy(parseNetworks(config.CV_HEARTBEAT_ALLOWED_NETWORKS));
}

export async function refuseBlockedEndpoint(payload: unknown, policy: EndpointPolicy): Promise<void> {
  const endpoint = (payload as { endpoint?: unknown } | undefined)?.endpoint;
  if (typeof endpoint !== 'string') return;
  const host = new URL(endpoint).hostname;
  const literal = literalAddress(host);
  let refused = literal !== undefined && policy.refuses(literal);
  if (literal === undefined) {
    const addresses = await Promise.race([
      lookup(host, { all: true }).catch(() => []),
      new Promise<[]>((r) => setTimeout(() => r([]), RESOLVE_TIMEOUT_MS).unref()),
    ]);
    refused = addresses.length > 0 && addresses.every((a) => policy.refuses(a.address));
  }
  if (refused) {
    throw new ValidationError(
      'endpoint_not_allowed',
      `payload.endpoint: ${host} is (or resolves only to) an address HEARTBEATs may not reach: loopback, private, link-local and other internal networks are refused unless the operator allows them (CV_HEARTBEAT_ALLOWED_NETWORKS)`,
      { field: 'payload.endpoint' },
    );
  }
}
