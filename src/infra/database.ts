// The PostgreSQL schema as Kysely sees it: one interface per table. Migrations in migrations/postgres
// create these tables; keep the two in step.
import type { Generated } from 'kysely';

export interface ProjectionCheckpointTable {
  projection: string;
  version: number;
  last_sequence: number;
  updated_at: Generated<Date>;
}

export interface Database {
  projection_checkpoints: ProjectionCheckpointTable;
}
