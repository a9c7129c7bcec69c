// The whole system for end-to-end tests: a private NATS, fresh databases, and `chronoverse all`
// (api, scheduler reactors, projector, executor) as a child process on a free port.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { waitUntil } from '../../src/stack/process-control.ts';
import { freePort, startNatsServer, type TestNatsServer } from './nats-server.ts';
import { type RoleProcess, startRole } from './role-process.ts';
import { createTestDatabases, type TestDatabases } from './test-databases.ts';

export interface TestSystem {
  readonly baseUrl: string;
  readonly nats: TestNatsServer;
  readonly dbs: TestDatabases;
  readonly process: RoleProcess;
  dispose(): Promise<void>;
}

/** Servers to use instead of the stack's (a test's private ones, to kill and restart). */
export type StoreOverrides = Partial<Record<'DATABASE_URL' | 'CLICKHOUSE_URL' | 'DOCKER_HOST', string>>;

/** `roles` is `all` or a comma-separated list, e.g. `api,projector,scheduler` (no executor). */
export async function startSystem(
  env: Record<string, string> = {},
  roles = 'all',
  stores: StoreOverrides = {},
): Promise<TestSystem> {
  const nats = await startNatsServer();
  const keyDir = mkdtempSync(join(tmpdir(), 'cv-e2e-keys-'));
  const port = await freePort();
  const dbs = await createTestDatabases({
    NATS_URL: nats.url,
    CV_HTTP_PORT: String(port),
    CV_JWT_KEY_DIR: keyDir,
    ...stores,
  });
  const child = startRole(roles, dbs.config, { CV_JWT_KEY_DIR: keyDir, CV_LOG_LEVEL: 'warn', ...env });
  const baseUrl = `http://127.0.0.1:${port}`;
  try {
    await waitUntil('api up', async () => (await fetch(`${baseUrl}/healthz`)).ok, 60_000);
  } catch (err) {
    throw new Error(`${String(err)}\n${child.output()}`);
  }
  return {
    baseUrl,
    nats,
    dbs,
    process: child,
    async dispose() {
      await child.kill('SIGTERM');
      await dbs.dispose();
      await nats.dispose();
      rmSync(keyDir, { recursive: true, force: true });
    },
  };
}

export interface ApiResponse<T = unknown> {
  status: number;
  headers: Headers;
  body: T;
}

/** A user's HTTP client: JSON in and out, Bearer token once logged in. */
export class ApiClient {
  token: string | undefined;

  constructor(readonly baseUrl: string) {}

  async request<T = Record<string, unknown>>(
    method: string,
    path: string,
    options: { body?: unknown; rawBody?: string; headers?: Record<string, string> } = {},
  ): Promise<ApiResponse<T>> {
    const headers: Record<string, string> = { ...options.headers };
    if (this.token && !('authorization' in headers)) headers.authorization = `Bearer ${this.token}`;
    let body: string | undefined;
    if (options.rawBody !== undefined) {
      body = options.rawBody;
      headers['content-type'] ??= 'application/json';
    } else if (options.body !== undefined) {
      body = JSON.stringify(options.body);
      headers['content-type'] = 'application/json';
    }
    const res = await fetch(`${this.baseUrl}${path}`, {
      method,
      headers,
      ...(body === undefined ? {} : { body }),
    });
    const text = await res.text();
    let parsed: unknown = text;
    try {
      parsed = text ? JSON.parse(text) : undefined;
    } catch {
      // not JSON: keep the text
    }
    return { status: res.status, headers: res.headers, body: parsed as T };
  }

  get<T = Record<string, unknown>>(path: string, headers?: Record<string, string>) {
    return this.request<T>('GET', path, headers ? { headers } : {});
  }

  post<T = Record<string, unknown>>(path: string, body?: unknown, headers?: Record<string, string>) {
    return this.request<T>('POST', path, {
      ...(body === undefined ? {} : { body }),
      ...(headers ? { headers } : {}),
    });
  }

  /** Registers and logs in a fresh user; returns its id. */
  async signUp(email: string, password = 'correct horse battery staple'): Promise<string> {
    const reg = await this.post<{ id: string }>('/auth/register', { email, password });
    if (reg.status !== 201) throw new Error(`register: ${reg.status} ${JSON.stringify(reg.body)}`);
    const login = await this.post<{ access_token: string }>('/auth/login', { email, password });
    if (login.status !== 200) throw new Error(`login: ${login.status} ${JSON.stringify(login.body)}`);
    this.token = login.body.access_token;
    return reg.body.id;
  }
}
