// Where a HEARTBEAT may connect. By default nowhere inside: not loopback, link-local (where clouds
// serve instance metadata), private or shared ranges, multicast or unspecified addresses — so a user
// cannot point a check at the machines Chronoverse runs beside. Operators who monitor internal hosts
// name the networks to allow (CV_HEARTBEAT_ALLOWED_NETWORKS). Pure: the resolving is the caller's.
import { BlockList, isIP } from 'node:net';

/** Networks no HEARTBEAT reaches unless an operator allows them. */
export const BLOCKED_NETWORKS: readonly string[] = [
  '0.0.0.0/8',
  '10.0.0.0/8',
  '100.64.0.0/10',
  '127.0.0.0/8',
  '169.254.0.0/16',
  '172.16.0.0/12',
  '192.0.0.0/24',
  '192.168.0.0/16',
  '198.18.0.0/15',
  '224.0.0.0/4',
  '240.0.0.0/4',
  '::/128',
  '::1/128',
  'fc00::/7',
  'fe80::/10',
  'ff00::/8',
];

function addNetwork(list: BlockList, network: string): void {
  const [address, prefix] = network.trim().split('/');
  const family = isIP(address ?? '');
  if (family === 0) throw new Error(`not an IP address or network: ${network}`);
  const type = family === 4 ? 'ipv4' : 'ipv6';
  if (prefix === undefined) list.addAddress(address!, type);
  else {
    const bits = Number(prefix);
    if (!Number.isInteger(bits) || bits < 0 || bits > (family === 4 ? 32 : 128)) {
      throw new Error(`not a network prefix: ${network}`);
    }
    list.addSubnet(address!, bits, type);
  }
}

/** Parses a comma-separated list of addresses and CIDR networks; throws on one that is neither. */
export function parseNetworks(text: string): string[] {
  const networks = text
    .split(',')
    .map((n) => n.trim())
    .filter(Boolean);
  for (const n of networks) addNetwork(new BlockList(), n);
  return networks;
}

export class EndpointPolicy {
  private readonly blockedList = new BlockList();
  private readonly allowedList = new BlockList();

  constructor(readonly allowedNetworks: readonly string[] = []) {
    for (const n of BLOCKED_NETWORKS) addNetwork(this.blockedList, n);
    for (const n of allowedNetworks) addNetwork(this.allowedList, n);
  }

  /** Whether a connection to this IP address (v4, v6 or v4-mapped v6) is refused. */
  refuses(address: string): boolean {
    const [ip, type] = normalized(address);
    if (this.allowedList.check(ip, type)) return false;
    return this.blockedList.check(ip, type);
  }

  /** Whether the address is in a network the operator named (webhooks take plain HTTP only there). */
  operatorAllows(address: string): boolean {
    const [ip, type] = normalized(address);
    return this.allowedList.check(ip, type);
  }
}

function normalized(address: string): [string, 'ipv4' | 'ipv6'] {
  const bare = address.replace(/^\[|\]$/g, '');
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(bare)?.[1];
  const ip = mapped ?? bare;
  return [ip, isIP(ip) === 4 ? 'ipv4' : 'ipv6'];
}

/** The host of an endpoint URL as an IP address, when it is one (IPv6 without its brackets). */
export function literalAddress(host: string): string | undefined {
  const bare = host.replace(/^\[|\]$/g, '');
  return isIP(bare) ? bare : undefined;
}
