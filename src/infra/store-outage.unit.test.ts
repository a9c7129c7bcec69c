import { describe, expect, it } from 'vitest';
import { ValidationError } from '../errors.ts';
import { storeOutage } from './store-outage.ts';

const withCode = (message: string, code: string) => Object.assign(new Error(message), { code });

describe('which store failures are outages', () => {
  it.each([
    ['a refused connection', withCode('connect ECONNREFUSED 127.0.0.1:15432', 'ECONNREFUSED')],
    ['a reset socket', withCode('read ECONNRESET', 'ECONNRESET')],
    ['PostgreSQL shutting down', withCode('terminating connection due to administrator command', '57P01')],
    ['PostgreSQL starting up', withCode('the database system is starting up', '57P03')],
    ['a connection exception', withCode('connection failure', '08006')],
    ['too many connections', withCode('sorry, too many clients already', '53300')],
    ['a serialization failure', withCode('could not serialize access', '40001')],
    ['pg: a connection that ended', new Error('Connection terminated unexpectedly')],
    ['pg pool: no connection in time', new Error('timeout exceeded when trying to connect')],
    ['ClickHouse: a socket that hung up', new Error('socket hang up')],
    ['an outage wrapped as the cause', new Error('query failed', { cause: withCode('x', 'ECONNREFUSED') })],
  ])('%s is a 503 to retry', (_, err) => {
    const outage = storeOutage(err);
    expect(outage?.status).toBe(503);
    expect(outage?.retryable).toBe(true);
    expect(outage?.retryAfterSeconds).toBeGreaterThan(0);
  });

  it.each([
    ['a syntax error in SQL', withCode('syntax error at or near "x"', '42601')],
    ['a unique violation', withCode('duplicate key value', '23505')],
    ['invalid text for a type', withCode('invalid input syntax for type uuid', '22P02')],
    ['a plain bug', new TypeError('cannot read properties of undefined')],
    ['a refusal of the domain', new ValidationError('invalid_name', 'name is empty')],
  ])('%s is not', (_, err) => {
    expect(storeOutage(err)).toBeUndefined();
  });
});
