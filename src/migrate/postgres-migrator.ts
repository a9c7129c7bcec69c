// Runs the PostgreSQL migrations with Kysely's Migrator (which takes a lock, so roles starting
// together do not race). A failed migration throws with the migration's name and error.
import { type Kysely, type MigrationResultSet, Migrator } from 'kysely';
import { postgresMigrations } from '../../migrations/postgres/index.ts';
import type { Database } from '../infra/database.ts';

export async function migratePostgres(db: Kysely<Database>): Promise<string[]> {
  const migrator = new Migrator({ db, provider: { getMigrations: async () => postgresMigrations } });
  const result: MigrationResultSet = await migrator.migrateToLatest();
  const failed = result.results?.find((r) => r.status === 'Error');
  if (result.error || failed) {
    throw new Error(`PostgreSQL migration ${failed?.migrationName ?? ''} failed: ${String(result.error)}`, {
      cause: result.error,
    });
  }
  return (result.results ?? []).filter((r) => r.status === 'Success').map((r) => r.migrationName);
}

export async function pendingPostgresMigrations(db: Kysely<Database>): Promise<string[]> {
  const migrator = new Migrator({ db, provider: { getMigrations: async () => postgresMigrations } });
  return (await migrator.getMigrations()).filter((m) => m.executedAt === undefined).map((m) => m.name);
}
