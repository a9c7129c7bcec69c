// The projector: every projection (Postgres read models, ClickHouse analytics). Each resumes from its
// checkpoint in Postgres, so any number of restarts loses and duplicates nothing.

import { ProjectionRunner } from '../projections/projection-runner.ts';
import { allProjections } from '../projections/registry.ts';
import type { RoleStarter } from './role.ts';

export const startProjector: RoleStarter = async (runtime) => {
  const deps = { nats: runtime.nats, db: runtime.db, log: runtime.log.child('projection') };
  const projections = allProjections(runtime).map((p) => new ProjectionRunner(deps, p));
  for (const p of projections) await p.start();
  runtime.log.info('projector started', { projections: projections.map((p) => p.projection.name) });
  return {
    name: 'projector',
    stop: async () => {
      await Promise.all(projections.map((p) => p.stop()));
    },
  };
};
