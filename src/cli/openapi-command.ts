// `chronoverse openapi [file]`: the API's OpenAPI document, built from the same route definitions the
// API serves but without any connection (no handler runs), so a linter or a client generator can read
// it on a machine where nothing is started.
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { loadConfig } from '../config/config.ts';
import { type ApiDeps, createApp } from '../http/app.ts';
import { createLogger } from '../telemetry/logger.ts';

/** The API app with every connection missing: enough for its document and for what runs before a handler. */
export function appWithoutConnections() {
  const unused = {} as never;
  const api: ApiDeps = {
    config: loadConfig(),
    db: unused,
    commands: unused,
    events: unused,
    auth: { tokens: unused } as never,
    nats: unused,
    clickhouse: unused,
  };
  return createApp({ log: createLogger('openapi', 'error'), readinessProbes: {}, api });
}

export async function openapiDocument(): Promise<unknown> {
  // Only the route definitions are used: no handler that needs a connection runs.
  const res = await appWithoutConnections().request('/openapi.json');
  if (!res.ok) throw new Error(`the document did not build: ${res.status}`);
  return res.json();
}

export async function openapiCommand(args: readonly string[]): Promise<number> {
  const text = `${JSON.stringify(await openapiDocument(), null, 2)}\n`;
  if (args[0]) {
    mkdirSync(dirname(args[0]), { recursive: true });
    writeFileSync(args[0], text);
  } else process.stdout.write(text);
  return 0;
}
