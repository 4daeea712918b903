/**
 * The peer map: for up to maxPeers peers, each peer's 32-byte id and its
 * confirmed neighbour list, in memory that is fixed when the store is built.
 *
 * Everything lives in typed arrays indexed by a slot number, so the heap cost
 * per peer is a sum of array widths (about 94 bytes at 12 neighbours), not a
 * pile of JS objects: ids in one byte array, neighbour lists as 32-bit slot
 * references, the id -> slot lookup an open-addressing table of slot numbers.
 *
 * A neighbour reference packs the slot (low 20 bits) with the slot's
 * generation (high 12 bits). Evicting a peer bumps its slot's generation, so
 * references to it elsewhere go stale at once without a reverse index; readers
 * skip stale ones. When a slot's generation wraps, one pass purges every stale
 * reference, so an old reference can never come back to life.
 *
 * Eviction when full is CLOCK (second chance) over the slots, an O(1)
 * amortised stand-in for least recently confirmed: a confirmation sets a
 * reference bit, the hand clears it on its first visit and evicts on the next.
 * A new entry starts without the bit, so a flood of one-off fake peers mostly
 * replaces itself. Pinned peers (current neighbours, committee members) and the
 * peers of an operation in progress are never evicted.
 */
import { crc32 } from 'node:zlib';
import { isClock, type Clock } from '../clock/index.js';
import { readSmallFile, writeFileAtomic } from '../store/index.js';
import { PeerStoreError } from './errors.js';

export const ID_BYTES = 32;
export const DEFAULT_MAX_PEERS = 100_000;
export const DEFAULT_MAX_DEGREE = 12;
/** Slots must fit the 20 bits of a neighbour reference. */
export const MAX_PEERS_LIMIT = 1 << 20;
export const MAX_DEGREE_LIMIT = 64;

const SLOT_BITS = 20;
const SLOT_MASK = (1 << SLOT_BITS) - 1;
const GEN_MASK = 0xfff;
const ID_WORDS = ID_BYTES / 4;

const USED = 1;
const PINNED = 2;
const REF = 4;
const BUSY = 8;

/** Candidates held in tie order during selection before any neighbour list is read. */
const TOP = 16;

const SNAPSHOT_MAGIC = 0x45415053; // 'EAPS'
const SNAPSHOT_VERSION = 1;
const HEADER_BYTES = 12;
const RECORD_FIXED_BYTES = ID_BYTES + 4 + 1 + 1;

export interface PeerStoreOptions {
  /** Capacity; the board profile's peerMapMaxPeers. Default 100,000. */
  readonly maxPeers?: number;
  /** Longest neighbour list kept per peer. Default 12. */
  readonly maxDegree?: number;
  /** Where confirmation times come from. */
  readonly clock: Clock;
  /** Seed of the lookup hash and of the tie-break order; random unless given (tests). */
  readonly seed?: number;
}

export interface Candidate {
  readonly id: Uint8Array;
  /** Neighbours of the candidate that are mine, plus 1 if one of mine lists the candidate. */
  readonly overlap: number;
}

export interface SelectOptions {
  /** My own id: never a candidate. */
  readonly self?: Uint8Array;
  /** Restrict the choice to these ids; ids the store does not hold are ignored. Default: every peer held. */
  readonly candidates?: readonly Uint8Array[];
}

function bad(message: string): PeerStoreError {
  return new PeerStoreError('BAD_ARGUMENT', message);
}

function checkId(id: unknown, where: string): asserts id is Uint8Array {
  if (!(id instanceof Uint8Array) || id.length !== ID_BYTES) throw bad(`${where}: a peer id must be a ${ID_BYTES}-byte Uint8Array`);
}

function checkIdList(list: unknown, max: number, where: string): asserts list is readonly Uint8Array[] {
  if (!Array.isArray(list)) throw bad(`${where}: expected an array of peer ids`);
  if (list.length > max) throw bad(`${where}: ${list.length} ids, at most ${max} allowed`);
  for (const id of list) checkId(id, where);
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return a.length === b.length;
}

function compareBytes(a: Uint8Array, b: Uint8Array): number {
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return a[i]! - b[i]!;
  return 0;
}

/** Bytes of a snapshot holding `peers` peers with `degree` neighbours each. */
export function snapshotBytes(peers: number, degree: number): number {
  return HEADER_BYTES + peers * (RECORD_FIXED_BYTES + 4 * degree) + 4;
}

export class PeerStore {
  readonly maxPeers: number;
  readonly maxDegree: number;
  private readonly clock: Clock;
  private readonly seed: number;

  private readonly ids: Uint8Array;
  private readonly idw: Uint32Array; // the same bytes, as words, for hashing and compares
  private readonly nbr: Uint32Array; // maxDegree references per slot
  private readonly deg: Uint8Array;
  private readonly seen: Uint32Array; // last confirmation, seconds; the free-list link of a free slot
  private readonly flags: Uint8Array;
  private readonly gen: Uint16Array;
  private readonly table: Int32Array; // slot + 1, 0 = empty
  private readonly tableMask: number;
  private readonly mark: Uint8Array; // selection stamps
  private epoch = 1;

  private count = 0;
  private unused = 0; // slots at and past this were never used
  private freeHead = -1;
  private hand = 0;
  private readonly scratch = new Uint32Array(ID_WORDS);
  private readonly top = new Int32Array(TOP);
  private readonly topKey = new Uint32Array(TOP);
  private readonly scratchBytes = new Uint8Array(this.scratch.buffer);

  constructor(options: PeerStoreOptions) {
    if (typeof options !== 'object' || options === null) throw bad('PeerStore: options are required');
    const { maxPeers = DEFAULT_MAX_PEERS, maxDegree = DEFAULT_MAX_DEGREE, clock, seed } = options;
    if (!Number.isSafeInteger(maxPeers) || maxPeers < 1 || maxPeers > MAX_PEERS_LIMIT) {
      throw bad(`PeerStore: maxPeers must be an integer from 1 to ${MAX_PEERS_LIMIT}, got ${String(maxPeers)}`);
    }
    if (!Number.isSafeInteger(maxDegree) || maxDegree < 1 || maxDegree > MAX_DEGREE_LIMIT) {
      throw bad(`PeerStore: maxDegree must be an integer from 1 to ${MAX_DEGREE_LIMIT}, got ${String(maxDegree)}`);
    }
    if (!isClock(clock)) throw bad('PeerStore: clock must be a Clock');
    if (seed !== undefined && (!Number.isSafeInteger(seed) || seed < 0 || seed > 0xffffffff)) {
      throw bad('PeerStore: seed must be a 32-bit unsigned integer');
    }
    this.maxPeers = maxPeers;
    this.maxDegree = maxDegree;
    this.clock = clock;
    // A secret seed keeps announced ids from being crafted to collide in the table.
    this.seed = seed ?? crypto.getRandomValues(new Uint32Array(1))[0]!;
    this.ids = new Uint8Array(maxPeers * ID_BYTES);
    this.idw = new Uint32Array(this.ids.buffer);
    this.nbr = new Uint32Array(maxPeers * maxDegree);
    this.deg = new Uint8Array(maxPeers);
    this.seen = new Uint32Array(maxPeers);
    this.flags = new Uint8Array(maxPeers);
    this.gen = new Uint16Array(maxPeers);
    this.mark = new Uint8Array(maxPeers);
    // Load factor at most 0.8 keeps linear probing short.
    let cap = 8;
    while (cap * 0.8 < maxPeers) cap *= 2;
    this.table = new Int32Array(cap);
    this.tableMask = cap - 1;
  }

  /** Peers held. */
  get size(): number {
    return this.count;
  }

  has(id: Uint8Array): boolean {
    checkId(id, 'PeerStore.has');
    return this.lookup(id) >= 0;
  }

  /**
   * Records that `id` was confirmed now (seen alive, or announced by a neighbour).
   * Returns true when the peer is new; it may have evicted another to fit.
   */
  upsertPeer(id: Uint8Array): boolean {
    checkId(id, 'PeerStore.upsertPeer');
    const s = this.lookup(id);
    if (s >= 0) {
      this.confirm(s);
      return false;
    }
    this.allocate();
    return true;
  }

  /**
   * Replaces the confirmed neighbour list of `id` (and confirms `id`). Neighbours
   * the store does not hold are added; duplicates and `id` itself are refused.
   */
  setNeighbours(id: Uint8Array, neighbourIds: readonly Uint8Array[]): void {
    checkId(id, 'PeerStore.setNeighbours');
    checkIdList(neighbourIds, this.maxDegree, 'PeerStore.setNeighbours');
    for (let i = 0; i < neighbourIds.length; i++) {
      const a = neighbourIds[i]!;
      if (sameBytes(a, id)) throw bad('PeerStore.setNeighbours: a peer cannot be its own neighbour');
      for (let j = 0; j < i; j++) if (sameBytes(a, neighbourIds[j]!)) throw bad('PeerStore.setNeighbours: duplicate neighbour id');
    }
    const busy: number[] = [];
    try {
      const s = this.ensure(id, true);
      this.flags[s]! |= BUSY;
      busy.push(s);
      const refs = new Uint32Array(neighbourIds.length);
      for (let i = 0; i < neighbourIds.length; i++) {
        const t = this.ensure(neighbourIds[i]!, false);
        this.flags[t]! |= BUSY;
        busy.push(t);
        refs[i] = this.ref(t);
      }
      this.nbr.set(refs, s * this.maxDegree);
      this.deg[s] = refs.length;
    } finally {
      for (const b of busy) this.flags[b]! &= ~BUSY;
    }
  }

  /** The confirmed neighbours of `id`, or undefined if the store does not hold it. */
  neighbours(id: Uint8Array): Uint8Array[] | undefined {
    checkId(id, 'PeerStore.neighbours');
    const s = this.lookup(id);
    if (s < 0) return undefined;
    const out: Uint8Array[] = [];
    const base = s * this.maxDegree;
    for (let i = 0; i < this.deg[s]!; i++) {
      const e = this.nbr[base + i]!;
      if (this.live(e)) out.push(this.idOf(e & SLOT_MASK));
    }
    return out;
  }

  /** When `id` was last confirmed (milliseconds since the epoch, whole seconds), or undefined. */
  lastConfirmed(id: Uint8Array): number | undefined {
    checkId(id, 'PeerStore.lastConfirmed');
    const s = this.lookup(id);
    return s < 0 ? undefined : this.seen[s]! * 1000;
  }

  /** Protects `id` from eviction (a current neighbour or committee member), adding it if new. */
  pin(id: Uint8Array): void {
    checkId(id, 'PeerStore.pin');
    const s = this.ensure(id, false);
    this.flags[s]! |= PINNED;
  }

  unpin(id: Uint8Array): void {
    checkId(id, 'PeerStore.unpin');
    const s = this.lookup(id);
    if (s >= 0) this.flags[s]! &= ~PINNED;
  }

  isPinned(id: Uint8Array): boolean {
    checkId(id, 'PeerStore.isPinned');
    const s = this.lookup(id);
    return s >= 0 && (this.flags[s]! & PINNED) !== 0;
  }

  /** Forgets `id` (pinned or not). Returns whether it was held. */
  remove(id: Uint8Array): boolean {
    checkId(id, 'PeerStore.remove');
    const s = this.lookup(id);
    if (s < 0) return false;
    this.release(s);
    this.seen[s] = this.freeHead;
    this.freeHead = s;
    return true;
  }

  /** Every id held, in slot order. */
  *peerIds(): IterableIterator<Uint8Array> {
    for (let s = 0; s < this.unused; s++) if (this.flags[s]! & USED) yield this.idOf(s);
  }

  // Slot-level view for graph algorithms (components.ts). Slot numbers are
  // valid until the next call that adds or removes a peer.

  /** Every used slot is below this. */
  get slotLimit(): number {
    return this.unused;
  }

  isSlotUsed(slot: number): boolean {
    return Number.isInteger(slot) && slot >= 0 && slot < this.unused && (this.flags[slot]! & USED) !== 0;
  }

  /** The slot holding `id`, or -1. */
  slotOf(id: Uint8Array): number {
    checkId(id, 'PeerStore.slotOf');
    return this.lookup(id);
  }

  /** Calls visit(from, to) for every live confirmed edge, as slots. */
  forEachEdge(visit: (from: number, to: number) => void): void {
    if (typeof visit !== 'function') throw bad('PeerStore.forEachEdge: visit must be a function');
    for (let s = 0; s < this.unused; s++) {
      if (!(this.flags[s]! & USED)) continue;
      const base = s * this.maxDegree;
      for (let i = base; i < base + this.deg[s]!; i++) {
        const e = this.nbr[i]!;
        if (this.live(e)) visit(s, e & SLOT_MASK);
      }
    }
  }

  /** The seeded rank ties in selectCandidate are broken by (lower first). */
  tieKey(id: Uint8Array): number {
    checkId(id, 'PeerStore.tieKey');
    this.scratchBytes.set(id);
    return this.tieWords(this.scratch, 0);
  }

  /**
   * Neighbour selection: among the candidates (default: every peer held), not
   * me and not already my neighbour, the one whose neighbourhood overlaps mine
   * least. overlap(c) = |N(c) ∩ mine| + (1 if some neighbour of mine lists c).
   * Ties go to the lower tieKey, then the lower id. My neighbourhood is
   * stamped in a marker array; candidates' lists are read only as needed.
   */
  selectCandidate(myNeighbours: readonly Uint8Array[], options: SelectOptions = {}): Candidate | undefined {
    checkIdList(myNeighbours, MAX_PEERS_LIMIT, 'PeerStore.selectCandidate');
    if (typeof options !== 'object' || options === null) throw bad('PeerStore.selectCandidate: options must be an object');
    const { self, candidates } = options;
    if (self !== undefined) checkId(self, 'PeerStore.selectCandidate');
    if (candidates !== undefined) checkIdList(candidates, Number.MAX_SAFE_INTEGER, 'PeerStore.selectCandidate');

    if (this.epoch + 1 > 255) {
      this.mark.fill(0);
      this.epoch = 1;
    }
    const MINE = this.epoch;
    const NEAR = this.epoch + 1;
    this.epoch += 2;
    const { mark, nbr, deg, flags, maxDegree } = this;

    const mine: number[] = [];
    for (const id of myNeighbours) {
      const s = this.lookup(id);
      if (s >= 0) {
        mark[s] = MINE;
        mine.push(s);
      }
    }
    for (const m of mine) {
      const base = m * maxDegree;
      for (let i = 0; i < deg[m]!; i++) {
        const e = nbr[base + i]!;
        const x = e & SLOT_MASK;
        if (mark[x] !== MINE && this.live(e)) mark[x] = NEAR;
      }
    }
    const selfSlot = self === undefined ? -1 : this.lookup(self);

    // Candidate slots: every slot, or the listed ids' slots (unknown ids ignored).
    let slots: Int32Array | undefined;
    if (candidates !== undefined) {
      slots = new Int32Array(candidates.length);
      for (let i = 0; i < candidates.length; i++) slots[i] = this.lookup(candidates[i]!);
    }
    const total = slots === undefined ? this.unused : slots.length;

    // Pass 1, cheap and sequential: the TOP eligible candidates in tie order.
    // In a sparse map almost every peer has overlap 0, so the first of these
    // with overlap 0 is the answer and the lists of the rest are never read.
    const { top, topKey, idw } = this;
    let held = 0;
    for (let k = 0; k < total; k++) {
      const c = slots === undefined ? k : slots[k]!;
      if (c < 0 || !(flags[c]! & USED) || c === selfSlot || mark[c] === MINE) continue;
      const key = this.tieWords(idw, c * ID_WORDS);
      if (held === TOP && !this.keyBefore(c, key, top[TOP - 1]!, topKey[TOP - 1]!)) continue;
      if (slots !== undefined && top.subarray(0, held).includes(c)) continue; // listed twice
      let i = held < TOP ? held++ : TOP - 1;
      while (i > 0 && this.keyBefore(c, key, top[i - 1]!, topKey[i - 1]!)) {
        top[i] = top[i - 1]!;
        topKey[i] = topKey[i - 1]!;
        i--;
      }
      top[i] = c;
      topKey[i] = key;
    }
    let best = -1;
    let bestOverlap = 0x7fffffff;
    for (let i = 0; i < held; i++) {
      const c = top[i]!;
      const overlap = this.overlapOf(c, MINE, NEAR, bestOverlap);
      if (overlap < bestOverlap) {
        best = c;
        bestOverlap = overlap;
        if (overlap === 0) break;
      }
    }
    // Pass 2, only when no held candidate had overlap 0: every list is read.
    if (bestOverlap > 0 && held === TOP) {
      for (let k = 0; k < total; k++) {
        const c = slots === undefined ? k : slots[k]!;
        if (c < 0 || !(flags[c]! & USED) || c === selfSlot || mark[c] === MINE) continue;
        const overlap = this.overlapOf(c, MINE, NEAR, bestOverlap);
        if (overlap < bestOverlap || (overlap === bestOverlap && c !== best && this.before(c, best))) {
          best = c;
          bestOverlap = overlap;
        }
      }
    }
    return best < 0 ? undefined : { id: this.idOf(best), overlap: bestOverlap };
  }

  /**
   * The whole store as bytes: header (magic 'EAPS', version, reserved, count),
   * per peer id, last confirmation (s), flags (bit 1: pinned), degree and
   * neighbours as record indexes, then a CRC-32 of everything before it.
   */
  snapshot(): Uint8Array {
    const index = new Int32Array(this.unused).fill(-1);
    let n = 0;
    let refs = 0;
    for (let s = 0; s < this.unused; s++) {
      if (!(this.flags[s]! & USED)) continue;
      index[s] = n++;
      const base = s * this.maxDegree;
      for (let i = 0; i < this.deg[s]!; i++) if (this.live(this.nbr[base + i]!)) refs++;
    }
    const out = new Uint8Array(HEADER_BYTES + n * RECORD_FIXED_BYTES + refs * 4 + 4);
    const view = new DataView(out.buffer);
    view.setUint32(0, SNAPSHOT_MAGIC);
    out[4] = SNAPSHOT_VERSION;
    view.setUint32(8, n);
    let at = HEADER_BYTES;
    for (let s = 0; s < this.unused; s++) {
      if (!(this.flags[s]! & USED)) continue;
      out.set(this.ids.subarray(s * ID_BYTES, (s + 1) * ID_BYTES), at);
      view.setUint32(at + ID_BYTES, this.seen[s]!);
      out[at + ID_BYTES + 4] = this.flags[s]! & PINNED ? 1 : 0;
      const degAt = at + ID_BYTES + 5;
      at += RECORD_FIXED_BYTES;
      const base = s * this.maxDegree;
      let d = 0;
      for (let i = 0; i < this.deg[s]!; i++) {
        const e = this.nbr[base + i]!;
        if (!this.live(e)) continue;
        view.setUint32(at, index[e & SLOT_MASK]!);
        at += 4;
        d++;
      }
      out[degAt] = d;
    }
    view.setUint32(at, crc32(out.subarray(0, at)));
    return out;
  }

  /**
   * A store rebuilt from snapshot(). If the snapshot holds more peers than
   * maxPeers, pinned peers and then the most recently confirmed are kept;
   * lists longer than maxDegree keep their first maxDegree entries.
   */
  static restore(bytes: Uint8Array, options: PeerStoreOptions): PeerStore {
    if (!(bytes instanceof Uint8Array)) throw bad('PeerStore.restore: bytes must be a Uint8Array');
    const store = new PeerStore(options);
    const corrupt = (why: string): PeerStoreError => new PeerStoreError('BAD_SNAPSHOT', `peer store snapshot: ${why}`);
    if (bytes.length < HEADER_BYTES + 4) throw corrupt('truncated header');
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    if (view.getUint32(0) !== SNAPSHOT_MAGIC) throw corrupt('bad magic');
    if (bytes[4] !== SNAPSHOT_VERSION) throw corrupt(`unknown version ${String(bytes[4])}`);
    const end = bytes.length - 4;
    if (view.getUint32(end) !== crc32(bytes.subarray(0, end))) throw corrupt('checksum mismatch');
    if (bytes[5] !== 0 || view.getUint16(6) !== 0) throw corrupt('reserved bytes set');
    const n = view.getUint32(8);
    if (n > (end - HEADER_BYTES) / RECORD_FIXED_BYTES) throw corrupt(`count ${n} does not fit the length`);

    // Pass 1: find each record and check its shape.
    const offsets = new Uint32Array(n);
    let at = HEADER_BYTES;
    for (let r = 0; r < n; r++) {
      if (at + RECORD_FIXED_BYTES > end) throw corrupt(`record ${r} truncated`);
      offsets[r] = at;
      const f = bytes[at + ID_BYTES + 4]!;
      if (f > 1) throw corrupt(`record ${r} has unknown flags ${f}`);
      const d = bytes[at + ID_BYTES + 5]!;
      at += RECORD_FIXED_BYTES + 4 * d;
      if (at > end) throw corrupt(`record ${r} truncated`);
    }
    if (at !== end) throw corrupt('trailing bytes');

    // Which records fit: pinned first, then the most recently confirmed.
    let order: number[] | Uint32Array;
    if (n <= store.maxPeers) {
      order = Uint32Array.from({ length: n }, (_, r) => r);
    } else {
      const key = (r: number): number => (bytes[offsets[r]! + ID_BYTES + 4]! ? 2 ** 33 : 0) + view.getUint32(offsets[r]! + ID_BYTES);
      order = Array.from({ length: n }, (_, r) => r)
        .sort((a, b) => key(b) - key(a))
        .slice(0, store.maxPeers);
    }
    const slotOf = new Int32Array(n).fill(-1);
    for (const r of order) {
      const o = offsets[r]!;
      const id = bytes.subarray(o, o + ID_BYTES);
      if (store.lookup(id) >= 0) throw corrupt(`record ${r} repeats an id`);
      const s = store.allocate();
      store.seen[s] = view.getUint32(o + ID_BYTES);
      if (bytes[o + ID_BYTES + 4]) store.flags[s]! |= PINNED;
      slotOf[r] = s;
    }
    // Pass 2: neighbour lists, now that every kept record has a slot.
    for (const r of order) {
      const o = offsets[r]!;
      const s = slotOf[r]!;
      const d = bytes[o + ID_BYTES + 5]!;
      const base = s * store.maxDegree;
      let k = 0;
      for (let i = 0; i < d; i++) {
        const target = view.getUint32(o + RECORD_FIXED_BYTES + 4 * i);
        if (target >= n) throw corrupt(`record ${r} names record ${target} of ${n}`);
        if (target === r) throw corrupt(`record ${r} lists itself`);
        const t = slotOf[target]!;
        if (t < 0 || k >= store.maxDegree) continue;
        const e = store.ref(t);
        for (let j = 0; j < k; j++) if (store.nbr[base + j] === e) throw corrupt(`record ${r} repeats a neighbour`);
        store.nbr[base + k++] = e;
      }
      store.deg[s] = k;
    }
    return store;
  }

  /** Writes snapshot() to `path` atomically (mode 0600). */
  async saveSnapshot(path: string): Promise<void> {
    if (typeof path !== 'string' || path === '') throw bad('PeerStore.saveSnapshot: path must be a non-empty string');
    await writeFileAtomic(path, this.snapshot(), { mode: 0o600 });
  }

  /**
   * The store saved at `path`, or undefined if there is none. Files larger than
   * a snapshot of twice maxPeers at maxDegree are refused unread.
   */
  static async loadSnapshot(path: string, options: PeerStoreOptions): Promise<PeerStore | undefined> {
    if (typeof path !== 'string' || path === '') throw bad('PeerStore.loadSnapshot: path must be a non-empty string');
    const maxPeers = options.maxPeers ?? DEFAULT_MAX_PEERS;
    const maxDegree = options.maxDegree ?? DEFAULT_MAX_DEGREE;
    const maxBytes = snapshotBytes(2 * maxPeers, maxDegree);
    const bytes = await readSmallFile(path, {
      maxBytes: Number.isSafeInteger(maxBytes) ? maxBytes : 0,
      tooLarge: (size) => new PeerStoreError('SNAPSHOT_TOO_LARGE', `${path}: ${size} bytes, at most ${maxBytes} expected`),
    });
    return bytes === undefined ? undefined : PeerStore.restore(bytes, options);
  }

  // --- internals ---

  private hashWords(w: Uint32Array, at: number): number {
    let h = this.seed ^ 0x811c9dc5;
    for (let i = 0; i < ID_WORDS; i++) {
      h = Math.imul(h ^ w[at + i]!, 0x9e3779b1);
      h ^= h >>> 15;
    }
    h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
    return (h ^ (h >>> 13)) >>> 0;
  }

  private tieWords(w: Uint32Array, at: number): number {
    let h = Math.imul(w[at]! ^ this.seed, 0xcc9e2d51);
    h ^= h >>> 16;
    h = Math.imul(h ^ w[at + 1]!, 0x1b873593);
    h ^= h >>> 13;
    h = Math.imul(h ^ (this.seed >>> 7), 0x85ebca6b);
    return (h ^ (h >>> 16)) >>> 0;
  }

  /** Overlap of candidate c with the stamped neighbourhood; stops early once past `limit`. */
  private overlapOf(c: number, MINE: number, NEAR: number, limit: number): number {
    const { mark, nbr, flags, gen } = this;
    let overlap = mark[c] === NEAR ? 1 : 0;
    const base = c * this.maxDegree;
    const end = base + this.deg[c]!;
    for (let i = base; i < end && overlap <= limit; i++) {
      const e = nbr[i]!;
      const x = e & SLOT_MASK;
      // Validity is checked only for references that would count.
      if (mark[x] === MINE && flags[x]! & USED && gen[x] === e >>> SLOT_BITS) overlap++;
    }
    return overlap;
  }

  /** Tie order: lower tie key, then lower id. */
  private before(a: number, b: number): boolean {
    return this.keyBefore(a, this.tieWords(this.idw, a * ID_WORDS), b, this.tieWords(this.idw, b * ID_WORDS));
  }

  private keyBefore(a: number, ka: number, b: number, kb: number): boolean {
    return ka !== kb ? ka < kb : a !== b && this.compareSlots(a, b) < 0;
  }

  private compareSlots(a: number, b: number): number {
    return compareBytes(this.ids.subarray(a * ID_BYTES, (a + 1) * ID_BYTES), this.ids.subarray(b * ID_BYTES, (b + 1) * ID_BYTES));
  }

  /** Slot of `id`, or -1. Leaves the id's words in scratch for allocate(). */
  private lookup(id: Uint8Array): number {
    this.scratchBytes.set(id);
    const w = this.scratch;
    const idw = this.idw;
    let i = this.hashWords(w, 0) & this.tableMask;
    for (;;) {
      const v = this.table[i]!;
      if (v === 0) return -1;
      const at = (v - 1) * ID_WORDS;
      if (
        idw[at] === w[0] && idw[at + 1] === w[1] && idw[at + 2] === w[2] && idw[at + 3] === w[3] &&
        idw[at + 4] === w[4] && idw[at + 5] === w[5] && idw[at + 6] === w[6] && idw[at + 7] === w[7]
      ) {
        return v - 1;
      }
      i = (i + 1) & this.tableMask;
    }
  }

  private ensure(id: Uint8Array, confirm: boolean): number {
    const s = this.lookup(id);
    if (s >= 0) {
      if (confirm) this.confirm(s);
      return s;
    }
    return this.allocate();
  }

  private confirm(s: number): void {
    this.flags[s]! |= REF;
    this.seen[s] = this.nowSeconds();
  }

  private nowSeconds(): number {
    const t = Math.floor(this.clock.now() / 1000);
    return t < 0 ? 0 : t > 0xffffffff ? 0xffffffff : t;
  }

  /** A slot for the id in scratch (just missed by lookup), on probation. */
  private allocate(): number {
    let s: number;
    if (this.freeHead >= 0) {
      s = this.freeHead;
      this.freeHead = this.seen[s] === 0xffffffff ? -1 : this.seen[s]!;
    } else if (this.unused < this.maxPeers) {
      s = this.unused++;
    } else {
      const id = this.scratch.slice(); // eviction may hash other ids through scratch
      s = this.evictOne();
      this.scratch.set(id);
    }
    this.idw.set(this.scratch, s * ID_WORDS);
    let i = this.hashWords(this.scratch, 0) & this.tableMask;
    while (this.table[i] !== 0) i = (i + 1) & this.tableMask;
    this.table[i] = s + 1;
    this.flags[s] = USED;
    this.deg[s] = 0;
    this.seen[s] = this.nowSeconds();
    this.count++;
    return s;
  }

  /** CLOCK: skip pinned and busy slots, spend a reference bit, evict the first slot without one. */
  private evictOne(): number {
    const n = this.maxPeers;
    for (let step = 0; step <= 2 * n; step++) {
      const s = this.hand;
      this.hand = s + 1 === n ? 0 : s + 1;
      const f = this.flags[s]!;
      if (!(f & USED) || f & (PINNED | BUSY)) continue;
      if (f & REF) {
        this.flags[s] = f & ~REF;
        continue;
      }
      this.release(s);
      return s;
    }
    throw new PeerStoreError('FULL', `PeerStore: all ${n} peers are pinned or in use; nothing can be evicted`);
  }

  /** Empties slot s: out of the table, its references stale. */
  private release(s: number): void {
    this.tableDelete(s);
    this.flags[s] = 0;
    this.deg[s] = 0;
    this.count--;
    const g = (this.gen[s]! + 1) & GEN_MASK;
    this.gen[s] = g;
    if (g === 0) this.purgeStale();
  }

  /** Linear probing deletion by backward shift, so no tombstones pile up. */
  private tableDelete(s: number): void {
    const mask = this.tableMask;
    let i = this.hashWords(this.idw, s * ID_WORDS) & mask;
    while (this.table[i] !== s + 1) i = (i + 1) & mask;
    this.table[i] = 0;
    for (let j = (i + 1) & mask; this.table[j] !== 0; j = (j + 1) & mask) {
      const home = this.hashWords(this.idw, (this.table[j]! - 1) * ID_WORDS) & mask;
      if (((j - home) & mask) >= ((j - i) & mask)) {
        this.table[i] = this.table[j]!;
        this.table[j] = 0;
        i = j;
      }
    }
  }

  /** Drops every stale reference: run when a generation wraps, so none can alias a new peer. */
  private purgeStale(): void {
    for (let s = 0; s < this.unused; s++) {
      if (!(this.flags[s]! & USED)) continue;
      const base = s * this.maxDegree;
      let k = 0;
      for (let i = 0; i < this.deg[s]!; i++) {
        const e = this.nbr[base + i]!;
        if (this.live(e)) this.nbr[base + k++] = e;
      }
      this.deg[s] = k;
    }
  }

  private ref(s: number): number {
    return ((this.gen[s]! << SLOT_BITS) | s) >>> 0;
  }

  private live(e: number): boolean {
    const s = e & SLOT_MASK;
    return (this.flags[s]! & USED) !== 0 && this.gen[s] === e >>> SLOT_BITS;
  }

  private idOf(s: number): Uint8Array {
    return this.ids.slice(s * ID_BYTES, (s + 1) * ID_BYTES);
  }
}
