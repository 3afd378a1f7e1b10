/**
 * A map of at most `entriesMax` entries that drops the least recently used first: the write side's
 * caches of account and transfer states. A Map keeps insertion order, so taking an entry out and
 * putting it back marks it the most recently used.
 */
export class RecentlyUsed<V> {
  private readonly entries = new Map<string, V>();

  constructor(private readonly entriesMax: number) {}

  /** The entry, now the most recently used. */
  get(key: string): V | undefined {
    const entry = this.entries.get(key);
    if (entry !== undefined) {
      this.entries.delete(key);
      this.entries.set(key, entry);
    }
    return entry;
  }

  /** The entry, without counting as a use. */
  peek(key: string): V | undefined {
    return this.entries.get(key);
  }

  set(key: string, value: V): void {
    this.entries.delete(key);
    this.entries.set(key, value);
    for (const oldest of this.entries.keys()) {
      if (this.entries.size <= this.entriesMax) break;
      this.entries.delete(oldest);
    }
  }

  delete(key: string): void {
    this.entries.delete(key);
  }

  /** The keys among these it does not hold, each once. */
  missing(keys: Iterable<string>): string[] {
    return [...new Set(keys)].filter((key) => !this.entries.has(key));
  }
}
