// Which failures of PostgreSQL, ClickHouse and the network are outages: the store did not answer, or
// refused to serve for now. The HTTP edge answers them 503 with Retry-After instead of a 500, and a
// consumer retries them (it retries anything that is not a refusal anyway).
import { UnavailableError } from '../errors.ts';

/** Node's socket errors for a store that is not there or went away. */
const NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'ENOTFOUND',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EAI_AGAIN',
  'UND_ERR_SOCKET',
  'UND_ERR_CONNECT_TIMEOUT',
]);

/**
 * PostgreSQL SQLSTATEs of a server that cannot serve now: class 08 (connection exception), 57P01–03
 * (shut down, crash, starting up), 53300 (too many connections), 40001/40P01 (serialization failure,
 * deadlock: the same transaction may pass when tried again).
 */
function isPostgresOutage(code: string): boolean {
  return (
    code.startsWith('08') ||
    /^57P0[1-3]$/.test(code) ||
    code === '53300' ||
    code === '40001' ||
    code === '40P01'
  );
}

/** pg and its pool say these in words, without a code. */
const OUTAGE_MESSAGES = [
  'Connection terminated',
  'timeout exceeded when trying to connect',
  'Client has encountered a connection error',
  'socket hang up',
  'Timeout error',
];

/** The outage behind `err` as a retryable error, or undefined when it is something else (a bug). */
export function storeOutage(err: unknown, depth = 0): UnavailableError | undefined {
  if (err instanceof UnavailableError) return err;
  if (!(err instanceof Error) || depth > 5) return undefined;
  const code = (err as { code?: unknown }).code;
  if (
    typeof code === 'string' &&
    (NETWORK_CODES.has(code) || (/^[0-9A-Z]{5}$/.test(code) && isPostgresOutage(code)))
  ) {
    return new UnavailableError('store_unavailable', 'A store did not answer; try again shortly', {
      cause: err,
    });
  }
  if (OUTAGE_MESSAGES.some((m) => err.message.includes(m))) {
    return new UnavailableError('store_unavailable', 'A store did not answer; try again shortly', {
      cause: err,
    });
  }
  return err.cause === undefined ? undefined : storeOutage(err.cause, depth + 1);
}
