// The command-line client's HTTP client: the public REST API with an API key (Bearer cvk_…), nothing
// else. A problem+json answer becomes the AppError of its status (src/errors.ts), so the client has
// one place that turns an error into an exit code (exitCodeOf).
import {
  AppError,
  BadRequestError,
  ConflictError,
  ForbiddenError,
  NotFoundError,
  PreconditionFailedError,
  UnauthorizedError,
  UnavailableError,
  ValidationError,
} from '../../errors.ts';

/** Exit codes scripts may rely on (docs/cli.md). */
export const EXIT = {
  ok: 0,
  /** `logs -f`: the job ended other than COMPLETED. */
  jobNotCompleted: 1,
  /** Bad arguments, an unreadable or invalid file. */
  usage: 2,
  /** Not logged in, or the key was refused (401) or lacks the scope (403). */
  auth: 3,
  /** No such workflow or job (or not yours). */
  notFound: 4,
  /** The API refused the request (409, 412, 422, 400, 413, 415, 429). */
  refused: 5,
  /** The API could not be reached or answered 5xx. */
  unavailable: 6,
} as const;

/** A mistake on the command line: exit 2. */
export function usageError(message: string): ValidationError {
  return new ValidationError('usage', message);
}

export function exitCodeOf(err: unknown): number {
  if (!(err instanceof AppError)) return EXIT.unavailable;
  if (err.code === 'usage') return EXIT.usage;
  if (err.status === 401 || err.status === 403) return EXIT.auth;
  if (err.status === 404) return EXIT.notFound;
  if (err.status >= 500) return EXIT.unavailable;
  return EXIT.refused;
}

type Problem = { code?: string; detail?: string; title?: string; field?: string };

function errorOf(status: number, problem: Problem): AppError {
  const code = problem.code ?? `http_${status}`;
  const message = `${problem.detail ?? problem.title ?? `HTTP ${status}`} (${code})`;
  switch (status) {
    case 401:
      return new UnauthorizedError(code, message);
    case 403:
      return new ForbiddenError(code, message);
    case 404:
      return new NotFoundError(code, message);
    case 409:
      return new ConflictError(code, message);
    case 412:
      return new PreconditionFailedError(code, message);
    case 422:
      return new ValidationError(code, message, problem.field ? { field: problem.field } : {});
    default:
      return status >= 500 ? new UnavailableError(code, message) : new BadRequestError(code, message);
  }
}

export interface ApiClientOptions {
  readonly baseUrl: string;
  /** An API key or an access token; none for /auth/login. */
  readonly key?: string;
}

export class ApiClient {
  constructor(private readonly options: ApiClientOptions) {}

  get baseUrl(): string {
    return this.options.baseUrl;
  }

  /** The raw answer of a request (an outage becomes UnavailableError). */
  async fetch(method: string, path: string, init: { body?: unknown; headers?: Record<string, string> } = {}) {
    const headers: Record<string, string> = {
      ...(this.options.key ? { authorization: `Bearer ${this.options.key}` } : {}),
      accept: 'application/json',
      ...init.headers,
    };
    if (init.body !== undefined) headers['content-type'] = 'application/json';
    try {
      return await fetch(new URL(path, this.options.baseUrl), {
        method,
        headers,
        ...(init.body === undefined ? {} : { body: JSON.stringify(init.body) }),
      });
    } catch (err) {
      throw new UnavailableError(
        'api_unreachable',
        `Cannot reach ${this.options.baseUrl}: ${messageOf(err)}`,
        {
          cause: err,
        },
      );
    }
  }

  /** A JSON request: the parsed body of a 2xx answer (undefined for 204), the AppError of any other. */
  async request<T>(method: string, path: string, body?: unknown): Promise<T> {
    const res = await this.fetch(method, path, body === undefined ? {} : { body });
    await assertOk(res);
    if (res.status === 204) return undefined as T;
    return (await res.json()) as T;
  }

  get<T>(path: string): Promise<T> {
    return this.request<T>('GET', path);
  }
}

export async function assertOk(res: Response): Promise<void> {
  if (res.ok) return;
  const text = await res.text();
  let problem: Problem = {};
  try {
    problem = JSON.parse(text) as Problem;
  } catch {
    problem = { detail: text.slice(0, 200) || res.statusText };
  }
  throw errorOf(res.status, problem);
}

export function messageOf(err: unknown): string {
  if (err instanceof Error) {
    const cause = err.cause instanceof Error ? `: ${err.cause.message}` : '';
    return `${err.message}${cause}`;
  }
  return String(err);
}
