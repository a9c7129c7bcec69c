// A NATS cluster of N nodes on one machine: each node a nats-server with its own `server_name`, client,
// monitoring and route ports and its own JetStream store, routed to every other node. Used by the local
// stack's cluster mode (`stack up --nats-cluster 3`) and by the tests that kill a node.

export interface NatsClusterNode {
  /** Unique in the cluster: JetStream's Raft groups name their peers by it. */
  readonly name: string;
  readonly clientPort: number;
  readonly monitorPort: number;
  readonly clusterPort: number;
  readonly storeDir: string;
  /** The address it listens on and is reached at (default 127.0.0.1; a test isolates one behind a veth). */
  readonly host?: string;
}

const hostOf = (node: NatsClusterNode) => node.host ?? '127.0.0.1';

export interface NatsClusterOptions {
  readonly clusterName?: string;
  /**
   * JetStream's `sync_interval`: how often a node fsyncs its stream files. Unset: the server's default
   * (every 2 minutes; a write acknowledged by a majority of nodes survives any one node's power cut in
   * between, not all of theirs). `always`: fsync before every acknowledgement, slower.
   */
  readonly syncInterval?: string;
}

/** Ports `base`, `base + 1`, … for the nodes, so node 1 answers on the single server's port. */
export function natsClusterNodes(
  size: number,
  ports: { client: number; monitor: number; cluster: number },
  storeDirOf: (name: string) => string,
): NatsClusterNode[] {
  return Array.from({ length: size }, (_, i) => {
    const name = `n${i + 1}`;
    return {
      name,
      clientPort: ports.client + i,
      monitorPort: ports.monitor + i,
      clusterPort: ports.cluster + i,
      storeDir: storeDirOf(name),
    };
  });
}

const quote = (s: string) => JSON.stringify(s);

/** The nats-server configuration of one node (loopback only unless the nodes name other hosts). */
export function natsClusterNodeConfig(
  node: NatsClusterNode,
  nodes: readonly NatsClusterNode[],
  options: NatsClusterOptions = {},
): string {
  const routes = nodes
    .filter((n) => n.name !== node.name)
    .map((n) => quote(`nats-route://${hostOf(n)}:${n.clusterPort}`));
  return [
    `server_name: ${quote(node.name)}`,
    `listen: "${hostOf(node)}:${node.clientPort}"`,
    `http: "${hostOf(node)}:${node.monitorPort}"`,
    'jetstream {',
    `  store_dir: ${quote(node.storeDir)}`,
    ...(options.syncInterval ? [`  sync_interval: ${quote(options.syncInterval)}`] : []),
    '}',
    'cluster {',
    `  name: ${quote(options.clusterName ?? 'chronoverse')}`,
    `  listen: "${hostOf(node)}:${node.clusterPort}"`,
    `  routes: [${routes.join(', ')}]`,
    '}',
    '',
  ].join('\n');
}

/** NATS_URL for a client: every node, so it can connect whichever node is down. */
export function natsClusterUrl(nodes: readonly NatsClusterNode[]): string {
  return nodes.map((n) => `nats://${hostOf(n)}:${n.clientPort}`).join(',');
}
