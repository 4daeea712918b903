/**
 * A bounded memo of pure results: is this signed package valid, what point do
 * these bytes decode to, does this frame's signature verify. Every entry must be
 * a function of its key alone (keys name whatever the answer depends on), so a
 * simulation may share one cache among its parties: that changes no outcome, it
 * only spares n parties from checking the same bytes n times. Cleared whole when
 * it grows past `limit` entries (cheaper than LRU bookkeeping on every hit).
 */
export class PureCache {
  readonly #entries = new Map<string, unknown>();
  readonly #limit: number;

  constructor(limit = 50_000) {
    if (!Number.isSafeInteger(limit) || limit < 1) throw new RangeError(`PureCache: limit must be a positive integer, got ${String(limit)}`);
    this.#limit = limit;
  }

  memo<T>(key: string, compute: () => T): T {
    if (this.#entries.has(key)) return this.#entries.get(key) as T;
    const value = compute();
    if (this.#entries.size >= this.#limit) this.#entries.clear();
    this.#entries.set(key, value);
    return value;
  }

  get size(): number {
    return this.#entries.size;
  }
}
