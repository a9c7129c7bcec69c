// A bounded in-process cache of actor snapshots by subject, the least recently used out first
// (approximately). A cached snapshot is only a shortcut: the commits after its version are always
// read before deciding.
//
// Two generations instead of one Map kept in use order: moving an entry to the end of a Map is a
// delete and a set, and V8 leaves the deleted slot in place until the table is rebuilt, so taking the
// oldest key (`keys().next()`) walked past every slot freed since. At capacity that made each use
// cost ~1 µs at 10,000 entries and ~7 µs at 100,000 (the scheduler's cache is full under any
// backlog: every job enters it); the generations cost ~0.2–0.4 µs and never delete on a use.
type Entry = { version: number; state: unknown };

export class SnapshotCache {
  /** Used since the last rotation. */
  private young = new Map<string, Entry>();
  /** Used in the generation before; an entry used again moves to `young`. */
  private old = new Map<string, Entry>();
  private readonly generationSize: number;

  /** Holds at most `capacity` snapshots, and at least the `capacity / 2` used last. */
  constructor(capacity: number) {
    this.generationSize = Math.max(1, Math.floor(capacity / 2));
  }

  get<S>(subject: string): { version: number; state: S } | undefined {
    const young = this.young.get(subject);
    if (young) return young as { version: number; state: S };
    const old = this.old.get(subject);
    if (old) this.keep(subject, old);
    return old as { version: number; state: S } | undefined;
  }

  /** Like get, without counting as a use. */
  peek<S>(subject: string): { version: number; state: S } | undefined {
    return (this.young.get(subject) ?? this.old.get(subject)) as { version: number; state: S } | undefined;
  }

  /** Keeps the newer of the cached and the given snapshot: a slow read never replaces a newer decision. */
  set(subject: string, version: number, state: unknown): void {
    const current = this.peek(subject);
    this.keep(subject, current && current.version > version ? current : { version, state });
  }

  delete(subject: string): void {
    this.young.delete(subject);
    this.old.delete(subject);
  }

  private keep(subject: string, entry: Entry): void {
    // An entry also left in `old` is shadowed by this one, and dropped with `old` at the next rotation.
    this.young.set(subject, entry);
    if (this.young.size >= this.generationSize) {
      this.old = this.young;
      this.young = new Map();
    }
  }
}
