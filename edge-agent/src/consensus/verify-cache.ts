/**
 * Memoized results of pure checks (does this frame's signature verify, does this
 * view-change hold). Keys name the frame by its sha256, and every answer is a function
 * of the key and the fixed replica keys, so a simulation may share one cache among its
 * replicas. Bounded: cleared when it grows past `limit` entries.
 */
export class VerifyCache {
  private readonly entries = new Map<string, unknown>();
  constructor(private readonly limit = 100_000) {}

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
