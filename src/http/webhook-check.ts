// A webhook URL checked when a subscription is saved: it must parse, and the target rule
// (src/infra/webhook-target.ts) must not refuse every address it has now: 422 url_not_allowed for an
// internal address (the HEARTBEAT guard), insecure_url for plain HTTP outside the operator's networks.
// A name that cannot be resolved now is accepted; the worker checks every connection again.
import { lookup } from 'node:dns/promises';
import { ValidationError } from '../errors.ts';
import { type EndpointPolicy, literalAddress } from '../infra/endpoint-policy.ts';
import { targetRefusal } from '../infra/webhook-target.ts';

const RESOLVE_TIMEOUT_MS = 2000;

export async function refuseBadWebhookUrl(text: string, policy: EndpointPolicy): Promise<void> {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new ValidationError('invalid_url', 'url: not a URL', { field: 'url' });
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    throw new ValidationError('invalid_url', 'url: must start with https:// (or http://)', { field: 'url' });
  }
  const literal = literalAddress(url.hostname);
  const addresses =
    literal !== undefined
      ? [literal]
      : (
          await Promise.race([
            lookup(url.hostname, { all: true }).catch(() => []),
            new Promise<[]>((r) => setTimeout(() => r([]), RESOLVE_TIMEOUT_MS).unref()),
          ])
        ).map((a) => a.address);
  const refusal = targetRefusal(url.protocol, addresses, policy);
  if (refusal === 'url_not_allowed') {
    throw new ValidationError(
      'url_not_allowed',
      `url: ${url.hostname} is (or resolves only to) an address webhooks may not reach: loopback, private, link-local and other internal networks are refused unless the operator allows them (CV_HEARTBEAT_ALLOWED_NETWORKS)`,
      { field: 'url' },
    );
  }
  if (refusal === 'insecure_url') {
    throw new ValidationError(
      'insecure_url',
      `url: plain http:// only to the networks the operator allows (CV_HEARTBEAT_ALLOWED_NETWORKS); use https://`,
      { field: 'url' },
    );
  }
}
