// NATS with JetStream on the stack's own ports, its store under .data/nats; or, in cluster mode
// (CV_STACK_NATS_CLUSTER=3, `stack up --nats-cluster 3`), one service per node of a cluster, each with
// its own configuration file and store under .data/nats-cluster/<node>.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { natsServerEnv, resolveNatsServer } from '../nats-binary.ts';
import { natsClusterNodeConfig, natsClusterNodes } from '../nats-cluster.ts';
import { dataDir, stackPorts } from '../paths.ts';
import { spawnDaemon } from '../process-control.ts';
import { httpOk, type LocalService } from './local-service.ts';

const storeDir = join(dataDir, 'nats');
const clusterDir = join(dataDir, 'nats-cluster');

export const natsService: LocalService = {
  name: 'nats',
  marker: storeDir,
  stopSignal: 'SIGTERM',
  address: `nats://127.0.0.1:${stackPorts.nats}`,
  isReady: () => httpOk(`http://127.0.0.1:${stackPorts.natsMonitor}/healthz?js-enabled-only=true`),
  async start(log) {
    const binary = await resolveNatsServer(log);
    mkdirSync(storeDir, { recursive: true });
    const args = [
      '-js',
      '-a',
      '127.0.0.1',
      '-p',
      String(stackPorts.nats),
      '-m',
      String(stackPorts.natsMonitor),
      '-sd',
      storeDir,
    ];
    return spawnDaemon(binary, args, join(dataDir, 'logs', 'nats.log'), natsServerEnv());
  },
};

/**
 * The nodes of the stack's NATS cluster. JetStream's `sync_interval` is the server's default unless
 * CV_STACK_NATS_SYNC_INTERVAL sets one (`always`, `10s`; docs/deployment.md says what each buys).
 */
export function natsClusterServices(size: number, env: NodeJS.ProcessEnv = process.env): LocalService[] {
  const nodes = natsClusterNodes(
    size,
    { client: stackPorts.nats, monitor: stackPorts.natsMonitor, cluster: stackPorts.natsCluster },
    (name) => join(clusterDir, name),
  );
  const syncInterval = env.CV_STACK_NATS_SYNC_INTERVAL || undefined;
  return nodes.map((node) => {
    const configFile = join(clusterDir, `${node.name}.conf`);
    return {
      name: 'nats',
      id: `nats-${node.name}`,
      // The configuration file's path is on the command line and names this stack's folder.
      marker: configFile,
      stopSignal: 'SIGTERM',
      address: `nats://127.0.0.1:${node.clientPort}`,
      // Only the node itself: JetStream of a cluster answers once a majority has elected a leader.
      isReady: () => httpOk(`http://127.0.0.1:${node.monitorPort}/healthz`),
      async start(log) {
        const binary = await resolveNatsServer(log);
        mkdirSync(node.storeDir, { recursive: true });
        writeFileSync(configFile, natsClusterNodeConfig(node, nodes, syncInterval ? { syncInterval } : {}));
        return spawnDaemon(
          binary,
          ['-c', configFile],
          join(dataDir, 'logs', `nats-${node.name}.log`),
          natsServerEnv(),
        );
      },
    };
  });
}
