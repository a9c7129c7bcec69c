// Small numeric helpers for the benchmarks: percentiles, medians, rates and a bounded worker pool.

/** Nearest-rank percentile (0 < p <= 100) of `samples`; 0 for no samples. */
export function percentile(samples: readonly number[], p: number): number {
  if (samples.length === 0) return 0;
  const sorted = Float64Array.from(samples).sort();
  const rank = Math.min(sorted.length, Math.max(1, Math.ceil((p / 100) * sorted.length)));
  return sorted[rank - 1]!;
}

export function median(values: readonly number[]): number {
  return percentile(values, 50);
}

/** Operations per second over `durationMs`. */
export function perSecond(count: number, durationMs: number): number {
  return durationMs > 0 ? round((count * 1000) / durationMs, 0) : 0;
}

export function round(value: number, digits = 2): number {
  const f = 10 ** digits;
  return Math.round(value * f) / f;
}

/** Latency summary of samples in milliseconds. */
export function latency(samplesMs: readonly number[]): { p50_ms: number; p99_ms: number; max_ms: number } {
  return {
    p50_ms: round(percentile(samplesMs, 50), 3),
    p99_ms: round(percentile(samplesMs, 99), 3),
    max_ms: round(percentile(samplesMs, 100), 3),
  };
}

/**
 * The median of every numeric field over the runs. Each field's median is taken on its own, so the
 * figures of one `median` object may come from different runs.
 */
export function medianOfRuns<T extends object>(runs: readonly T[]): { [K in keyof T]: T[K] } {
  const first = runs[0];
  if (!first) throw new Error('no runs to summarise');
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(first)) {
    out[key] =
      typeof value === 'number' ? median(runs.map((r) => (r as Record<string, number>)[key]!)) : value;
  }
  return out as { [K in keyof T]: T[K] };
}

/** Runs `work` over `items` with at most `concurrency` calls in flight, in the items' order. */
export async function runPool<T>(
  items: readonly T[],
  concurrency: number,
  work: (item: T, index: number) => Promise<void>,
): Promise<void> {
  let next = 0;
  const worker = async () => {
    for (let i = next++; i < items.length; i = next++) await work(items[i]!, i);
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(concurrency, items.length)) }, worker));
}

/** Rejects with a message naming `what` when `promise` takes longer than `ms`. */
export async function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not finish within ${ms / 1000}s`)), ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
