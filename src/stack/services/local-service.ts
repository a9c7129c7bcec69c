// The shape every locally managed daemon has: how to tell it is ours, whether it answers, how to start it.

export interface LocalService {
  readonly name: 'nats' | 'postgres' | 'clickhouse' | 'docker';
  /** Its key in .data/stack.json when several share a name (the nodes of a NATS cluster: nats-n1 …). */
  readonly id?: string;
  /** A substring of the daemon's command line that only our instance has (its data folder). */
  readonly marker: string;
  /** The signal that shuts it down cleanly (PostgreSQL prefers SIGINT, a "fast" shutdown). */
  readonly stopSignal: NodeJS.Signals;
  /** Where it can be reached, for `status` and for the roles' defaults. */
  readonly address: string;
  isReady(): Promise<boolean>;
  /** Starts the daemon and returns its pid (it may still be coming up). */
  start(log: (m: string) => void): Promise<number>;
  /** Runs once it answers: create databases, import images… Idempotent. */
  afterReady?(log: (m: string) => void): Promise<void>;
}

export async function httpOk(url: string, expectBody?: string): Promise<boolean> {
  const res = await fetch(url, { signal: AbortSignal.timeout(2000) });
  if (!res.ok) return false;
  return expectBody === undefined || (await res.text()).includes(expectBody);
}
