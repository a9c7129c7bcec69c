// NATS with JetStream on the stack's own ports, its store under .data/nats.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { natsServerEnv, resolveNatsServer } from '../nats-binary.ts';
import { dataDir, stackPorts } from '../paths.ts';
import { spawnDaemon } from '../process-control.ts';
import { httpOk, type LocalService } from './local-service.ts';

const storeDir = join(dataDir, 'nats');

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
