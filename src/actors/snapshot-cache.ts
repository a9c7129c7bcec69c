// A bounded in-process cache of actor snapshots by subject, least recently used out first. A cached
// snapshot is only a shortcut: the commits after its version are always read before deciding.
export class SnapshotCache {
  private readonly entries = new Map<string, { version: number; state: unknown }>();

  constructor(private readonly capacity: number) {}

  get<S>(subject: string): { version: number; state: S } | undefined {
    const entry = this.entries.get(subject);
    if (!entry) return undefined;
    this.entries.delete(subject);
    this.entries.set(subject, entry);
    return entry as { version: number; state: S };
  }

  /** Like get, without counting as a use. */
  peek<S>(subject: string): { version: number; state: S } | undefined {
    return this.entries.get(subject) as { version: number; state: S } | undefined;
  }

  /** Keeps the newer of the cached and the given snapshot: a slow read never replaces a newer decision. */
  set(subject: string, version: number, state: unknown): void {
    const current = this.entries.get(subject);
    this.entries.delete(subject);
    this.entries.set(subject, current && current.version > version ? current : { version, state });
    if (this.entries.size > this.capacity) {
      const oldest = this.entries.keys().next().value;
      if (oldest !== undefined) this.entries.delete(oldest);
    }
  }

  delete(subject: string): void {
    this.entries.delete(subject);
  }
}
