import { describe, expect, it } from 'vitest';
import { natsClusterNodeConfig, natsClusterNodes, natsClusterUrl } from './nats-cluster.ts';

const nodes = natsClusterNodes(3, { client: 14222, monitor: 18222, cluster: 16222 }, (n) => `/data/${n}`);

describe('NATS cluster nodes', () => {
  it('have unique names, ports and stores, node 1 on the single server ports', () => {
    expect(nodes.map((n) => n.name)).toEqual(['n1', 'n2', 'n3']);
    expect(nodes[0]).toMatchObject({ clientPort: 14222, monitorPort: 18222, clusterPort: 16222 });
    for (const key of ['clientPort', 'monitorPort', 'clusterPort', 'storeDir'] as const) {
      expect(new Set(nodes.map((n) => n[key])).size).toBe(3);
    }
  });

  it('route each node to every other one, not to itself', () => {
    const config = natsClusterNodeConfig(nodes[1]!, nodes, { syncInterval: 'always' });
    expect(config).toContain('server_name: "n2"');
    expect(config).toContain('listen: "127.0.0.1:14223"');
    expect(config).toContain('store_dir: "/data/n2"');
    expect(config).toContain('sync_interval: "always"');
    expect(config).toContain('routes: ["nats-route://127.0.0.1:16222", "nats-route://127.0.0.1:16224"]');
    expect(natsClusterNodeConfig(nodes[0]!, nodes)).not.toContain('sync_interval');
  });

  it('give clients every address', () => {
    expect(natsClusterUrl(nodes)).toBe(
      'nats://127.0.0.1:14222,nats://127.0.0.1:14223,nats://127.0.0.1:14224',
    );
  });
});
