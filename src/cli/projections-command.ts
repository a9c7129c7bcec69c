// `chronoverse projections rebuild [name]`: drop a projection's rows and replay the log into them.
import { loadConfig } from '../config/config.ts';
import { migrateAll } from '../migrate/migrate-all.ts';
import { rebuildProjection } from '../projections/projection-batch.ts';
import { allProjections } from '../projections/registry.ts';
import { openRuntime } from '../runtime/runtime.ts';

export async function projectionsCommand(args: readonly string[]): Promise<number> {
  const [action, name] = args;
  if (action !== 'rebuild') {
    console.error('usage: chronoverse projections rebuild [name]');
    return 2;
  }
  const config = loadConfig();
  const runtime = await openRuntime(config, 'projections');
  try {
    await migrateAll(config, { db: runtime.db, nats: runtime.nats });
    const all = allProjections(runtime);
    const chosen = name ? all.filter((p) => p.name === name) : all;
    if (chosen.length === 0) {
      console.error(`no projection named "${name}"; known: ${all.map((p) => p.name).join(', ')}`);
      return 2;
    }
    for (const p of chosen) {
      const started = performance.now();
      const last = await rebuildProjection(
        { nats: runtime.nats, db: runtime.db, log: runtime.log, archive: runtime.archive },
        p,
      );
      console.log(`${p.name}: rebuilt to sequence ${last} in ${Math.round(performance.now() - started)} ms`);
    }
    return 0;
  } finally {
    await runtime.close();
  }
}
