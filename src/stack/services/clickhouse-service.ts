// ClickHouse with the packaged configuration rewritten to the stack's own ports and folders.
import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { dataDir, stackPorts } from '../paths.ts';
import { spawnDaemon } from '../process-control.ts';
import { httpOk, type LocalService } from './local-service.ts';

const chDir = join(dataDir, 'clickhouse');
const configFile = join(chDir, 'config.xml');

export interface ClickhousePorts {
  readonly http: number;
  readonly tcp: number;
  readonly interserver: number;
}

const stackClickhousePorts: ClickhousePorts = {
  http: stackPorts.clickhouseHttp,
  tcp: stackPorts.clickhouseTcp,
  interserver: stackPorts.clickhouseInterserver,
};

/**
 * Rewrites the packaged config.xml: our ports (the stack's unless given: the fault tests run servers
 * of their own), our data and log folders, IPv4 loopback only.
 */
export function localClickhouseConfig(
  packaged: string,
  dir: string,
  ports: ClickhousePorts = stackClickhousePorts,
): string {
  let xml = packaged
    .replaceAll('/var/log/clickhouse-server/', `${dir}/log/`)
    .replaceAll('/var/lib/clickhouse/', `${dir}/data/`)
    .replace(/<http_port>\d+<\/http_port>/, `<http_port>${ports.http}</http_port>`)
    .replace(/<tcp_port>\d+<\/tcp_port>/, `<tcp_port>${ports.tcp}</tcp_port>`)
    .replace(
      /<interserver_http_port>\d+<\/interserver_http_port>/,
      `<interserver_http_port>${ports.interserver}</interserver_http_port>`,
    )
    .replace(/<mysql_port>\d+<\/mysql_port>/, '')
    .replace(/<postgresql_port>\d+<\/postgresql_port>/, '');
  xml = xml.replace(/<listen_host>[^<]*<\/listen_host>/g, '');
  return xml.replace(/<\/(yandex|clickhouse)>\s*$/, '    <listen_host>127.0.0.1</listen_host>\n</$1>\n');
}

export const clickhouseService: LocalService = {
  name: 'clickhouse',
  marker: configFile,
  stopSignal: 'SIGTERM',
  address: `http://127.0.0.1:${stackPorts.clickhouseHttp}`,
  isReady: () => httpOk(`http://127.0.0.1:${stackPorts.clickhouseHttp}/ping`, 'Ok'),
  async start() {
    mkdirSync(join(chDir, 'log'), { recursive: true });
    mkdirSync(join(chDir, 'data'), { recursive: true });
    writeFileSync(
      configFile,
      localClickhouseConfig(readFileSync('/etc/clickhouse-server/config.xml', 'utf8'), chDir),
    );
    copyFileSync('/etc/clickhouse-server/users.xml', join(chDir, 'users.xml'));
    return spawnDaemon(
      'clickhouse-server',
      [`--config-file=${configFile}`],
      join(dataDir, 'logs', 'clickhouse.log'),
    );
  },
};
