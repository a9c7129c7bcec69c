// The handle every query takes: the PostgreSQL pool or one of its transactions (a Transaction is a
// Kysely). Named here so that the API can pass it around without importing Kysely itself.
import type { Kysely } from 'kysely';
import type { Database } from '../infra/database.ts';

export type Db = Kysely<Database>;
