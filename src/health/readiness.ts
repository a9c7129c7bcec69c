// Readiness: every dependency probed in parallel with its own deadline. The probes are passed in, so
// this is the same logic whatever the dependencies are and is testable without them.
export type Probe = () => Promise<unknown>;

export interface DependencyCheck {
  ok: boolean;
  latency_ms: number;
  error?: string;
}

export interface ReadinessReport {
  status: 'ok' | 'unavailable';
  checks: Record<string, DependencyCheck>;
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

export async function checkReadiness(
  probes: Record<string, Probe>,
  options: { timeoutMs?: number; now?: () => number } = {},
): Promise<ReadinessReport> {
  const timeoutMs = options.timeoutMs ?? 2000;
  const now = options.now ?? (() => performance.now());
  const entries = await Promise.all(
    Object.entries(probes).map(async ([name, probe]): Promise<[string, DependencyCheck]> => {
      const started = now();
      try {
        await withTimeout(Promise.resolve().then(probe), timeoutMs);
        return [name, { ok: true, latency_ms: Math.round((now() - started) * 10) / 10 }];
      } catch (err) {
        const error = err instanceof Error ? err.message : String(err);
        return [
          name,
          { ok: false, latency_ms: Math.round((now() - started) * 10) / 10, error: error.slice(0, 200) },
        ];
      }
    }),
  );
  const checks = Object.fromEntries(entries);
  return { status: entries.every(([, c]) => c.ok) ? 'ok' : 'unavailable', checks };
}
