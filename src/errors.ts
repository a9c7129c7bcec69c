// The one error hierarchy of Chronoverse. Every error a user can cause is an AppError with a stable
// machine-readable `code`; the HTTP layer maps `status` to the response in exactly one place.
// `retryable` separates the two kinds every consumer must tell apart: a refusal (the domain said no:
// the same command would be refused again, so a reaction is acked) and an outage (a store did not
// answer, or a crowd on one actor kept it busy: the same command may land later, so it is retried).

export type ErrorDetails = Readonly<Record<string, unknown>>;

export abstract class AppError extends Error {
  abstract readonly status: number;
  /** true: the same request may succeed later (an outage); false: it is refused for good. */
  readonly retryable: boolean = false;
  readonly code: string;
  readonly details: ErrorDetails | undefined;

  constructor(code: string, message: string, options?: { cause?: unknown; details?: ErrorDetails }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.code = code;
    this.details = options?.details;
  }
}

/** Input that does not parse or breaks a documented limit. `field` names the offending input. */
export class ValidationError extends AppError {
  readonly status = 422;
  readonly field: string | undefined;
  constructor(code: string, message: string, options?: { field?: string; details?: ErrorDetails }) {
    super(code, message, options);
    this.field = options?.field;
  }
}

/** The thing does not exist, or belongs to someone else (never say which). */
export class NotFoundError extends AppError {
  readonly status = 404;
}

/** The command is not allowed in the aggregate's current state (e.g. resume a terminated workflow). */
export class ConflictError extends AppError {
  readonly status = 409;
}

/** A stated precondition does not hold (e.g. delete a workflow that is not terminated, If-Match). */
export class PreconditionFailedError extends AppError {
  readonly status = 412;
}

export class UnauthorizedError extends AppError {
  readonly status = 401;
}

/** Authenticated, but this request is not allowed (e.g. a cookie-authenticated write without its CSRF token). */
export class ForbiddenError extends AppError {
  readonly status = 403;
}

/** The request cannot be read at all (its body is not UTF-8 JSON text). */
export class BadRequestError extends AppError {
  readonly status = 400;
}

/** The request's body is larger than the API takes. */
export class PayloadTooLargeError extends AppError {
  readonly status = 413;
}

/** The request has a body the API cannot read: not JSON. */
export class UnsupportedMediaTypeError extends AppError {
  readonly status = 415;
}

/** Too many attempts; the same request may be allowed after `retryAfterSeconds` (the Retry-After header). */
export class TooManyRequestsError extends AppError {
  readonly status = 429;
  /** What the HTTP answer's Retry-After says. */
  readonly retryAfterSeconds: number;
  constructor(
    code: string,
    message: string,
    options?: { cause?: unknown; details?: ErrorDetails; retryAfterSeconds?: number },
  ) {
    super(code, message, options);
    this.retryAfterSeconds = options?.retryAfterSeconds ?? 1;
  }
}

/** A dependency (NATS, PostgreSQL, ClickHouse, Docker) is unavailable, or an actor too busy; retryable. */
export class UnavailableError extends AppError {
  readonly status = 503;
  override readonly retryable = true;
  /** What the HTTP answer's Retry-After says. */
  readonly retryAfterSeconds: number;
  constructor(
    code: string,
    message: string,
    options?: { cause?: unknown; details?: ErrorDetails; retryAfterSeconds?: number },
  ) {
    super(code, message, options);
    this.retryAfterSeconds = options?.retryAfterSeconds ?? 2;
  }
}

/**
 * The domain refused: retrying the same command is refused again. A consumer acks a reaction that
 * ends so and retries one that ends in anything else (an outage, or an error it does not know).
 */
export function isRefusal(err: unknown): err is AppError {
  return err instanceof AppError && !err.retryable;
}
