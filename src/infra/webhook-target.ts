// Where a webhook may be delivered: the HEARTBEAT address guard (EndpointPolicy: no loopback, private,
// link-local… unless the operator allows those networks in CV_HEARTBEAT_ALLOWED_NETWORKS), and plain
// HTTP only to an address the operator allowed by name of its network: a receiver on the public
// internet is reached over HTTPS, so the signed body and the event data are not sent in the clear.
// The same rule is checked when a subscription is saved (on the addresses a name resolves to then)
// and on every connection (on the address the connection really goes to: DNS rebinding is caught).
import { lookup as dnsLookup, type LookupAddress, type LookupAllOptions, type LookupOptions } from 'node:dns';
import type { EndpointPolicy } from './endpoint-policy.ts';

export type TargetRefusal = 'url_not_allowed' | 'insecure_url';

/** Why a webhook of this protocol may not connect to this address, if it may not. Pure. */
export function addressRefusal(
  protocol: string,
  address: string,
  policy: EndpointPolicy,
): TargetRefusal | undefined {
  if (policy.refuses(address)) return 'url_not_allowed';
  if (protocol === 'http:' && !policy.operatorAllows(address)) return 'insecure_url';
  return undefined;
}

/** A target is refused when every address it has is (none known: not yet; the connection decides). */
export function targetRefusal(
  protocol: string,
  addresses: readonly string[],
  policy: EndpointPolicy,
): TargetRefusal | undefined {
  const refusals = addresses.map((a) => addressRefusal(protocol, a, policy));
  return refusals.length > 0 && refusals.every(Boolean) ? refusals[0] : undefined;
}

type Lookup = (
  hostname: string,
  options: LookupOptions,
  callback: (err: NodeJS.ErrnoException | null, address: string | LookupAddress[], family?: number) => void,
) => void;

/** dns.lookup for a webhook connection, keeping only the addresses it may reach. */
export function webhookLookup(protocol: string, policy: EndpointPolicy): Lookup {
  return (hostname, options, callback) => {
    dnsLookup(hostname, { ...options, all: true } as LookupAllOptions, (err, addresses) => {
      if (err) return callback(err, []);
      const allowed = addresses.filter((a) => !addressRefusal(protocol, a.address, policy));
      if (allowed.length === 0) {
        const refusal = targetRefusal(
          protocol,
          addresses.map((a) => a.address),
          policy,
        );
        return callback(
          Object.assign(
            new Error(`${hostname} resolves only to addresses webhooks may not reach (${refusal})`),
            {
              code: 'ENDPOINT_NOT_ALLOWED',
            },
          ),
          [],
        );
      }
      if (options.all) return callback(null, allowed);
      return callback(null, allowed[0]!.address, allowed[0]!.family);
    });
  };
}
