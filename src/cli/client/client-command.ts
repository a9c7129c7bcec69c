// The client subcommands of `chronoverse` (docs/cli.md): login, workflows, jobs, logs, history. They
// use the public REST API only, with an API key from the configuration file (config.ts). Tables for
// people by default, `--json` for scripts; exit codes in EXIT (api.ts).
import { readFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { createInterface } from 'node:readline/promises';
import { parseArgs } from 'node:util';
import { AppError, UnauthorizedError, UnavailableError } from '../../errors.ts';
import { ApiClient, assertOk, EXIT, exitCodeOf, messageOf, usageError } from './api.ts';
import { configPath, readConfig, requireKey, resolve, writeConfig } from './config.ts';
import { readSse } from './sse.ts';

export const CLIENT_COMMANDS = ['login', 'logout', 'workflows', 'jobs', 'logs', 'history'] as const;

export const clientUsage = `client (docs/cli.md; --api-url URL or CHRONOVERSE_API_URL, --json for scripts):
  login [--key KEY | --email EMAIL]        store an API key (asked for, or made from a login) in
                                           ~/.config/chronoverse/config.json (mode 0600)
  logout                                   forget the stored key
  workflows list [--query TEXT] [--limit N]
  workflows get|pause|resume|terminate|run|delete ID
  workflows create -f FILE                 FILE is JSON as POST /workflows takes it ('-': stdin)
  workflows update ID -f FILE              as PUT /workflows/{id} takes it
  jobs list WORKFLOW [--status S] [--limit N]
  logs [-f] WORKFLOW JOB                   the job's log; -f follows it until the job ends and exits
                                           0 if it COMPLETED, 1 otherwise
  history WORKFLOW [--job JOB] [--limit N] the events of a workflow (or of one of its jobs)`;

export interface Io {
  readonly out: (text: string) => void;
  readonly err: (text: string) => void;
  readonly env: NodeJS.ProcessEnv;
  readonly stdin: NodeJS.ReadStream;
}

const defaultIo: Io = {
  out: (t) => process.stdout.write(t),
  err: (t) => process.stderr.write(t),
  env: process.env,
  stdin: process.stdin,
};

type Flags = {
  json?: boolean;
  'api-url'?: string;
  file?: string;
  follow?: boolean;
  key?: string;
  email?: string;
  query?: string;
  status?: string;
  limit?: string;
  job?: string;
};

const OPTIONS = {
  json: { type: 'boolean' },
  'api-url': { type: 'string' },
  file: { type: 'string', short: 'f' },
  follow: { type: 'boolean' },
  key: { type: 'string' },
  email: { type: 'string' },
  query: { type: 'string' },
  status: { type: 'string' },
  limit: { type: 'string' },
  job: { type: 'string' },
} as const;

/** Runs one client command; answers its exit code and writes errors to stderr, never throws. */
export async function clientCommand(
  command: string,
  argv: readonly string[],
  io: Io = defaultIo,
): Promise<number> {
  let json = argv.includes('--json');
  try {
    // `logs -f` follows; everywhere else -f names a file.
    const args = command === 'logs' ? argv.map((a) => (a === '-f' ? '--follow' : a)) : [...argv];
    let parsed: { values: Flags; positionals: string[] };
    try {
      parsed = parseArgs({ args, options: OPTIONS, allowPositionals: true, strict: true }) as never;
    } catch (err) {
      throw usageError(messageOf(err));
    }
    const { values: flags, positionals } = parsed;
    json = flags.json ?? false;
    const path = configPath(io.env);
    const config = await readConfig(path);
    const resolved = resolve(
      config,
      flags['api-url'] === undefined ? {} : { apiUrl: flags['api-url'] },
      io.env,
    );
    const ctx: Ctx = {
      io,
      flags,
      json,
      path,
      apiUrl: resolved.apiUrl,
      api: () => new ApiClient({ baseUrl: resolved.apiUrl, key: requireKey(resolved, path) }),
    };
    switch (command) {
      case 'login':
        return await login(ctx);
      case 'logout':
        await writeConfig(path, { ...config, key: undefined });
        if (!json) io.out(`Forgot the key in ${path} (revoke it with DELETE /api-keys/{id})\n`);
        else io.out(`${JSON.stringify({ logged_out: true })}\n`);
        return EXIT.ok;
      case 'workflows':
        return await workflows(ctx, positionals);
      case 'jobs':
        if (positionals[0] !== 'list' || !positionals[1])
          throw usageError('usage: chronoverse jobs list WORKFLOW');
        return await listJobs(ctx, positionals[1]);
      case 'logs':
        if (positionals.length !== 2) throw usageError('usage: chronoverse logs [-f] WORKFLOW JOB');
        return await logs(ctx, positionals[0]!, positionals[1]!);
      case 'history':
        if (positionals.length !== 1) throw usageError('usage: chronoverse history WORKFLOW [--job JOB]');
        return await history(ctx, positionals[0]!);
      default:
        throw usageError(clientUsage);
    }
  } catch (err) {
    const code = exitCodeOf(err);
    if (json) {
      const body =
        err instanceof AppError
          ? { error: { code: err.code, message: err.message } }
          : { error: { message: messageOf(err) } };
      io.err(`${JSON.stringify(body)}\n`);
    } else {
      io.err(`chronoverse: ${messageOf(err)}\n`);
    }
    return code;
  }
}

interface Ctx {
  readonly io: Io;
  readonly flags: Flags;
  readonly json: boolean;
  readonly path: string;
  readonly apiUrl: string;
  api(): ApiClient;
}

type Workflow = {
  id: string;
  name: string;
  kind: string;
  status: string;
  build_status: string;
  schedule: { type: string; minutes?: number; cron?: string; timezone?: string; at?: string };
  last_fired_at: string | null;
  version: number;
};
type Job = {
  id: string;
  status: string;
  trigger: string;
  attempt: number;
  scheduled_at: string;
  completed_at: string | null;
  exit_code: number | null;
  failure_reason: string | null;
};
type Page<T> = { items: T[]; next_cursor: string | null };

function printJson(ctx: Ctx, value: unknown): void {
  ctx.io.out(`${JSON.stringify(value, null, 2)}\n`);
}

/** Columns padded to their widest cell; the last one is not padded. */
function printTable(ctx: Ctx, header: readonly string[], rows: readonly (readonly string[])[]): void {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: readonly string[]) =>
    cells
      .map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]!)))
      .join('  ')
      .trimEnd();
  ctx.io.out(`${[line(header), ...rows.map(line)].join('\n')}\n`);
}

function limitOf(ctx: Ctx, fallback: number): number {
  if (ctx.flags.limit === undefined) return fallback;
  const n = Number(ctx.flags.limit);
  if (!Number.isInteger(n) || n < 1) throw usageError('--limit must be a positive integer');
  return n;
}

/** Every page of a keyset-paged list, up to `limit` items. */
async function allPages<T>(api: ApiClient, path: string, params: Record<string, string>, limit: number) {
  const items: T[] = [];
  let cursor: string | null = null;
  do {
    const query = new URLSearchParams({ ...params, limit: String(Math.min(100, limit - items.length)) });
    if (cursor) query.set('cursor', cursor);
    const page: Page<T> = await api.get<Page<T>>(`${path}?${query}`);
    items.push(...page.items);
    cursor = page.next_cursor;
  } while (cursor && items.length < limit);
  return items;
}

function id(value: string | undefined, what: string): string {
  if (!value) throw usageError(`${what} is missing`);
  if (!/^[0-9a-f-]{36}$/i.test(value)) throw usageError(`${what} must be a UUID: ${value}`);
  return value;
}

async function readInput(ctx: Ctx): Promise<unknown> {
  const file = ctx.flags.file;
  if (!file) throw usageError('-f FILE is required (JSON; - for standard input)');
  let text: string;
  try {
    text = file === '-' ? await readStream(ctx.io.stdin) : await readFile(file, 'utf8');
  } catch (err) {
    throw usageError(`cannot read ${file}: ${messageOf(err)}`);
  }
  try {
    return JSON.parse(text);
  } catch (err) {
    throw usageError(`${file} is not JSON: ${messageOf(err)}`);
  }
}

async function readStream(stream: NodeJS.ReadableStream): Promise<string> {
  let text = '';
  for await (const chunk of stream) text += chunk.toString();
  return text;
}

function schedule(w: Workflow): string {
  const s = w.schedule;
  if (s.type === 'interval') return `every ${s.minutes ?? '?'} min`;
  if (s.type === 'cron') return `cron ${s.cron ?? ''}${s.timezone ? ` ${s.timezone}` : ''}`;
  return `at ${s.at ?? ''}`;
}

function printWorkflow(ctx: Ctx, w: Workflow): void {
  if (ctx.json) {
    printJson(ctx, w);
    return;
  }
  const rows = Object.entries(w).map(([k, v]) => [k, typeof v === 'string' ? v : JSON.stringify(v)] as const);
  printTable(ctx, ['FIELD', 'VALUE'], rows);
}

async function workflows(ctx: Ctx, positionals: readonly string[]): Promise<number> {
  const [verb, arg] = positionals;
  const verbs = ['list', 'get', 'create', 'update', 'pause', 'resume', 'terminate', 'run', 'delete'];
  if (!verb || !verbs.includes(verb)) throw usageError(clientUsage);
  const api = ctx.api();
  switch (verb) {
    case 'list': {
      const params: Record<string, string> = ctx.flags.query ? { query: ctx.flags.query } : {};
      const items = await allPages<Workflow>(api, '/workflows', params, limitOf(ctx, 1000));
      if (ctx.json) printJson(ctx, items);
      else
        printTable(
          ctx,
          ['ID', 'NAME', 'KIND', 'STATUS', 'BUILD', 'SCHEDULE', 'LAST FIRED'],
          items.map((w) => [
            w.id,
            w.name,
            w.kind,
            w.status,
            w.build_status,
            schedule(w),
            w.last_fired_at ?? '-',
          ]),
        );
      return EXIT.ok;
    }
    case 'get':
      printWorkflow(ctx, await api.get<Workflow>(`/workflows/${id(arg, 'WORKFLOW')}`));
      return EXIT.ok;
    case 'create': {
      const created = await api.request<{ id: string; version: number }>(
        'POST',
        '/workflows',
        await readInput(ctx),
      );
      if (ctx.json) printJson(ctx, created);
      else ctx.io.out(`${created.id}\n`);
      return EXIT.ok;
    }
    case 'update': {
      const body = await readInput(ctx);
      printWorkflow(ctx, await api.request<Workflow>('PUT', `/workflows/${id(arg, 'WORKFLOW')}`, body));
      return EXIT.ok;
    }
    case 'pause':
    case 'resume':
    case 'terminate': {
      const w = await api.request<Workflow>('POST', `/workflows/${id(arg, 'WORKFLOW')}/${verb}`);
      if (ctx.json) printJson(ctx, w);
      else ctx.io.out(`${w.id} ${w.status}\n`);
      return EXIT.ok;
    }
    case 'run': {
      const job = await api.request<{ job_id: string; scheduled_at: string }>(
        'POST',
        `/workflows/${id(arg, 'WORKFLOW')}/jobs/schedule`,
      );
      if (ctx.json) printJson(ctx, job);
      else ctx.io.out(`${job.job_id}\n`);
      return EXIT.ok;
    }
    case 'delete': {
      await api.request('DELETE', `/workflows/${id(arg, 'WORKFLOW')}`);
      if (ctx.json) printJson(ctx, { id: arg, deleted: true });
      else ctx.io.out(`${arg} deleted\n`);
      return EXIT.ok;
    }
    default:
      throw usageError(clientUsage);
  }
}

async function listJobs(ctx: Ctx, workflow: string): Promise<number> {
  const params: Record<string, string> = ctx.flags.status ? { status: ctx.flags.status } : {};
  const items = await allPages<Job>(
    ctx.api(),
    `/workflows/${id(workflow, 'WORKFLOW')}/jobs`,
    params,
    limitOf(ctx, 100),
  );
  if (ctx.json) printJson(ctx, items);
  else
    printTable(
      ctx,
      ['ID', 'STATUS', 'TRIGGER', 'ATTEMPT', 'SCHEDULED', 'EXIT', 'REASON'],
      items.map((j) => [
        j.id,
        j.status,
        j.trigger,
        String(j.attempt),
        j.scheduled_at,
        j.exit_code === null ? '-' : String(j.exit_code),
        j.failure_reason ?? '',
      ]),
    );
  return EXIT.ok;
}

type LogLine = { message: string; stream: string; attempt: number; sequence_num: number; timestamp: string };

async function logs(ctx: Ctx, workflowArg: string, jobArg: string): Promise<number> {
  const base = `/workflows/${id(workflowArg, 'WORKFLOW')}/jobs/${id(jobArg, 'JOB')}`;
  const api = ctx.api();
  if (!ctx.flags.follow) {
    const res = await api.fetch('GET', `${base}/logs/raw?format=${ctx.json ? 'jsonl' : 'txt'}`);
    await assertOk(res);
    ctx.io.out(await res.text());
    return EXIT.ok;
  }
  // Follows the live tail until its `end` event; a dropped connection resumes from the last line seen.
  let lastId: string | undefined;
  for (let attempt = 0; ; attempt++) {
    const res = await api.fetch('GET', `${base}/events`, {
      headers: { accept: 'text/event-stream', ...(lastId ? { 'last-event-id': lastId } : {}) },
    });
    await assertOk(res);
    if (!res.body) throw new UnavailableError('log_stream_broken', 'the log stream has no body');
    for await (const message of readSse(res.body)) {
      if (message.event === 'log') {
        lastId = message.id ?? lastId;
        const line = JSON.parse(message.data) as LogLine;
        if (ctx.json) ctx.io.out(`${JSON.stringify({ event: 'log', ...line })}\n`);
        else if (line.stream === 'stderr') ctx.io.err(`${line.message}\n`);
        else ctx.io.out(`${line.message}\n`);
      } else if (message.event === 'end') {
        const { status } = JSON.parse(message.data) as { status: string };
        if (ctx.json) ctx.io.out(`${JSON.stringify({ event: 'end', status })}\n`);
        else if (status !== 'COMPLETED') ctx.io.err(`chronoverse: the job ended ${status}\n`);
        return status === 'COMPLETED' ? EXIT.ok : EXIT.jobNotCompleted;
      } else if (message.event === 'error' && message.data.includes('credential_revoked')) {
        throw new UnauthorizedError(
          'credential_revoked',
          'the API key was revoked or expired while following',
        );
      } else if (message.event === 'error') {
        throw new UnavailableError('log_stream_broken', `the log stream failed: ${message.data}`);
      }
    }
    if (attempt >= 5)
      throw new UnavailableError('log_stream_broken', 'the log stream kept closing before the job ended');
    await new Promise((r) => setTimeout(r, 500 * (attempt + 1)));
  }
}

type HistoryEvent = {
  sequence: number;
  type: string;
  occurred_at: string;
  api_key_id: string | null;
  data: unknown;
};

async function history(ctx: Ctx, workflow: string): Promise<number> {
  const path = ctx.flags.job
    ? `/workflows/${id(workflow, 'WORKFLOW')}/jobs/${id(ctx.flags.job, 'JOB')}/history`
    : `/workflows/${id(workflow, 'WORKFLOW')}/history`;
  const limit = limitOf(ctx, 10_000);
  const api = ctx.api();
  const items: HistoryEvent[] = [];
  let after: number | null = null;
  do {
    const query = new URLSearchParams({ limit: String(Math.min(1000, limit - items.length)) });
    if (after !== null) query.set('after', String(after));
    const page: { items: HistoryEvent[]; next_after: number | null } = await api.get(`${path}?${query}`);
    items.push(...page.items);
    after = page.next_after;
  } while (after !== null && items.length < limit);
  if (ctx.json) printJson(ctx, items);
  else
    printTable(
      ctx,
      ['SEQ', 'TIME', 'TYPE', 'API KEY'],
      items.map((e) => [String(e.sequence), e.occurred_at, e.type, e.api_key_id ?? '-']),
    );
  return EXIT.ok;
}

async function login(ctx: Ctx): Promise<number> {
  const { flags, io } = ctx;
  let key = flags.key;
  if (!key && flags.email) key = await keyFromPassword(ctx, flags.email);
  if (!key) key = (await ask(io, 'API key (cvk_…): ')).trim();
  if (!key.startsWith('cvk_'))
    throw usageError('an API key starts with cvk_ (create one with POST /api-keys)');
  const api = new ApiClient({ baseUrl: ctx.apiUrl, key });
  const me = await api.get<{ id: string; email: string }>('/users/me');
  await writeConfig(ctx.path, { api_url: ctx.apiUrl, key });
  if (ctx.json) printJson(ctx, { api_url: ctx.apiUrl, user: me, config: ctx.path });
  else io.out(`Logged in to ${ctx.apiUrl} as ${me.email}; the key is in ${ctx.path}\n`);
  return EXIT.ok;
}

/** Logs in with the password (CHRONOVERSE_PASSWORD, or asked) and creates a read+write key for this machine. */
async function keyFromPassword(ctx: Ctx, email: string): Promise<string> {
  const password = ctx.io.env.CHRONOVERSE_PASSWORD ?? (await ask(ctx.io, `Password for ${email}: `, true));
  const anonymous = new ApiClient({ baseUrl: ctx.apiUrl });
  const res = await anonymous.fetch('POST', '/auth/login', { body: { email, password } });
  await assertOk(res);
  const { access_token } = (await res.json()) as { access_token: string };
  const session = new ApiClient({ baseUrl: ctx.apiUrl, key: access_token });
  const created = await session.request<{ key: string }>('POST', '/api-keys', {
    name: `chronoverse cli on ${hostname()}`.slice(0, 100),
    scopes: ['read', 'write'],
  });
  return created.key;
}

/** One line from the terminal (not echoed when `secret`), or the first line of piped input. */
async function ask(io: Io, prompt: string, secret = false): Promise<string> {
  if (!io.stdin.isTTY) return (await readStream(io.stdin)).split('\n')[0] ?? '';
  const rl = createInterface({ input: io.stdin, output: process.stderr, terminal: true });
  try {
    process.stderr.write(prompt);
    // readline echoes what is typed through this method: silenced, the answer is not shown.
    if (secret) (rl as unknown as { _writeToOutput: (s: string) => void })._writeToOutput = () => {};
    const answer = await rl.question('');
    if (secret) process.stderr.write('\n');
    return answer;
  } finally {
    rl.close();
  }
}
