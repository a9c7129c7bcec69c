// A Docker engine of the stack's own: its socket, data and exec roots under .data/docker. No bridge
// and no iptables, so it never touches the host's network; CONTAINER jobs default to network "none".
import { mkdirSync } from 'node:fs';
import { request } from 'node:http';
import { join } from 'node:path';
import { dataDir, dockerDirs, localDefaults } from '../paths.ts';
import { spawnDaemon } from '../process-control.ts';
import { ensureTestImage } from '../test-image.ts';
import type { LocalService } from './local-service.ts';

export function dockerPing(socketPath: string): Promise<boolean> {
  return new Promise((resolve, reject) => {
    const req = request({ socketPath, path: '/_ping', timeout: 2000 }, (res) => {
      res.resume();
      resolve(res.statusCode === 200);
    });
    req.on('timeout', () => req.destroy(new Error('docker ping timed out')));
    req.on('error', reject);
    req.end();
  });
}

export const dockerService: LocalService = {
  name: 'docker',
  marker: dockerDirs.data,
  stopSignal: 'SIGTERM',
  address: localDefaults.dockerHost,
  isReady: () => dockerPing(dockerDirs.socket),
  async start() {
    mkdirSync(dockerDirs.data, { recursive: true });
    mkdirSync(dockerDirs.exec, { recursive: true });
    const args = [
      '--iptables=false',
      '--ip-forward=false',
      '--ip-masq=false',
      '--bridge=none',
      '--storage-driver=vfs',
      `--data-root=${dockerDirs.data}`,
      `--exec-root=${dockerDirs.exec}`,
      `--pidfile=${dockerDirs.pidFile}`,
      `--host=unix://${dockerDirs.socket}`,
    ];
    return spawnDaemon('dockerd', args, join(dataDir, 'logs', 'docker.log'));
  },
  afterReady: (log) => ensureTestImage(localDefaults.dockerHost, log),
};
