// The Kysely instance over a pg pool. 64-bit integers (JetStream sequences, counts) are parsed as
// numbers: they stay far below 2^53 here, and strings would leak into every read model.
import { Kysely, PostgresDialect } from 'kysely';
import pg from 'pg';
import type { Database } from './database.ts';

pg.types.setTypeParser(pg.types.builtins.INT8, (v) => Number(v));

export function connectPostgres(url: string, poolSize = 10): Kysely<Database> {
  const pool = new pg.Pool({ connectionString: url, max: poolSize, connectionTimeoutMillis: 5000 });
  // A client that loses its server must not crash the process. The pool hears an idle client's error
  // (and replaces it); a checked-out one's would go unheard, an uncaught 'error' event: pg-pool takes
  // its listener off while the client is lent out, and a server that dies sends every connection a
  // FATAL (57P01, "terminating connection due to unexpected postmaster exit") whether a query runs on
  // it or not. With a listener of its own, the query in flight (or the next one) fails as an outage
  // and the pool drops the client when it comes back.
  pool.on('error', () => {});
  pool.on('connect', (client) => client.on('error', () => {}));
  return new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
}
