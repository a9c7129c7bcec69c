// Wraps a projection to time its own `applyBatch` (load rows, reduce, write rows), so a result can
// say how much of a catch-up or rebuild is the projection's SQL and how much the rest: consuming and
// decoding the log, the transaction, the lock and the checkpoint.
import type { Projection } from '../../src/projections/projection.ts';
import { round } from './stats.ts';

export interface ProjectionTiming {
  batches: number;
  apply_batch_ms: number;
}

export function timedProjection(inner: Projection): { projection: Projection; take(): ProjectionTiming } {
  let batches = 0;
  let ms = 0;
  const projection: Projection = {
    name: inner.name,
    version: inner.version,
    subjects: inner.subjects,
    async applyBatch(tx, commits) {
      const t0 = performance.now();
      try {
        await inner.applyBatch(tx, commits);
      } finally {
        ms += performance.now() - t0;
        batches++;
      }
    },
    reset: (tx) => inner.reset(tx),
  };
  return {
    projection,
    take() {
      const timing = { batches, apply_batch_ms: round(ms, 1) };
      batches = 0;
      ms = 0;
      return timing;
    },
  };
}
