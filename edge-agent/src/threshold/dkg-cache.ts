/**
 * A cache of pure results (is this signed round-1 package valid, what point do these
 * bytes decode to, what public package do these commitments give). Every entry is a
 * function of its key alone (keys name the session, threshold and rule where the answer
 * depends on them), so sharing one cache among the members of a simulation
 * changes no outcome: it only spares n members from checking the same package n times.
 * A real member keeps its own. Bounded: cleared when it grows past `limit` entries.
 */
export class DealingCache {
  private readonly entries = new Map<string, unknown>();
  constructor(private readonly limit = 50_000) {}

  memo<T>(key: string, compute: () => T): T {
    if (this.entries.has(key)) return this.entries.get(key) as T;
    const value = compute();
    if (this.entries.size >= this.limit) this.entries.clear();
    this.entries.set(key, value);
    return value;
  }

  get size(): number {
    return this.entries.size;
  }
}
