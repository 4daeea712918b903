/**
 * Commitments fetched ahead (RFC 9591 §5.1: round one does not need the
 * message, so it may be done in advance). A coordinator that keeps a few
 * commitments per member signs in one round trip (the sign request) instead
 * of two.
 *
 * Safety stays with the signers: each commitment was recorded durably by its
 * member's NonceStore before it left, is consumed at most once there, and is
 * refused (NONCE_REUSE) after a restart or once used. The pool only promises
 * not to hand one commitment out twice: take() removes it. A commitment the
 * member refuses as stale (it restarted) makes the pool drop everything it
 * holds for that member.
 *
 * Fetched commitments are fully decoded (subgroup check included) while the
 * pool is idle, so the decoded points are cached (frost.ts) before a signature
 * needs them; one that does not decode is not pooled.
 */
import { ThresholdError } from './errors.js';
import { type SigningCommitment, isValidCommitment } from './frost.js';

/** Default commitments kept per member: enough for back-to-back signatures while a refill is on its way. */
export const DEFAULT_POOL_DEPTH = 2;
/** Most commitments kept per member: far below a signer's outstanding limit (NonceStore: 64), so none is evicted there. */
export const MAX_POOL_DEPTH = 16;

export interface CommitmentPoolOptions {
  /** Members to keep commitments for (e.g. the roster, or those usually available). */
  readonly members: readonly number[];
  /** Asks one member for a fresh commitment (signing-service's commitmentFetcher does it over the channels). */
  readonly fetch: (member: number) => Promise<SigningCommitment>;
  /** Commitments kept per member (default 2). */
  readonly depth?: number;
  /**
   * Shows the members what the pool holds after each refill (signing-service's
   * commitmentAnnouncer: a threshold/prepare request), so they decode those
   * points while idle rather than inside the sign request. Failures are ignored.
   */
  readonly announce?: (commitments: readonly SigningCommitment[]) => Promise<void>;
}

export class CommitmentPool {
  readonly depth: number;
  readonly #members: readonly number[];
  readonly #fetch: (member: number) => Promise<SigningCommitment>;
  readonly #announce: ((commitments: readonly SigningCommitment[]) => Promise<void>) | undefined;
  readonly #queues = new Map<number, SigningCommitment[]>();
  readonly #pending = new Map<number, number>();
  /** Bumped by drop(): a fetch started before it may no longer be pooled for that member. */
  readonly #epoch = new Map<number, number>();
  readonly #inflight = new Set<Promise<void>>();
  #closed = false;

  constructor(opts: CommitmentPoolOptions) {
    if (typeof opts !== 'object' || opts === null) throw new ThresholdError('BAD_ARGUMENT', 'CommitmentPool: options must be an object');
    if (!Array.isArray(opts.members) || opts.members.some((m) => !Number.isInteger(m) || m < 1)) {
      throw new ThresholdError('BAD_ARGUMENT', 'CommitmentPool: members must be an array of member numbers');
    }
    if (typeof opts.fetch !== 'function') throw new ThresholdError('BAD_ARGUMENT', 'CommitmentPool: fetch must be a function');
    const depth = opts.depth ?? DEFAULT_POOL_DEPTH;
    if (!Number.isInteger(depth) || depth < 1 || depth > MAX_POOL_DEPTH) {
      throw new ThresholdError('BAD_ARGUMENT', `CommitmentPool: depth must be an integer in 1..${MAX_POOL_DEPTH}`);
    }
    this.depth = depth;
    this.#members = [...new Set(opts.members)];
    this.#fetch = opts.fetch;
    if (opts.announce !== undefined && typeof opts.announce !== 'function') throw new ThresholdError('BAD_ARGUMENT', 'CommitmentPool: announce must be a function');
    this.#announce = opts.announce;
    for (const m of this.#members) {
      this.#queues.set(m, []);
      this.#pending.set(m, 0);
      this.#epoch.set(m, 0);
    }
  }

  /** Commitments held for `member` now. */
  size(member: number): number {
    return this.#queues.get(member)?.length ?? 0;
  }

  /** The oldest commitment held for `member`, removed from the pool (never handed out again); undefined if none. */
  take(member: number): SigningCommitment | undefined {
    if (this.#closed) return undefined;
    return this.#queues.get(member)?.shift();
  }

  /** Forgets everything held for `member` (it refused one as stale: the others are stale too). */
  drop(member: number): void {
    const q = this.#queues.get(member);
    if (q === undefined) return;
    q.length = 0;
    this.#epoch.set(member, this.#epoch.get(member)! + 1);
  }

  /**
   * Tops every member up to `depth`, asking all members at once. Resolves
   * when every fetch in flight (this call's and earlier ones') has settled;
   * a member that fails or sends an invalid commitment is simply left short
   * (a signature then asks it live, and judges it then).
   */
  async refill(): Promise<void> {
    for (const m of this.#members) {
      const want = this.depth - this.size(m) - this.#pending.get(m)!;
      for (let i = 0; i < want; i++) {
        const job = this.#one(m).finally(() => this.#inflight.delete(job));
        this.#inflight.add(job);
      }
    }
    await Promise.all([...this.#inflight]);
    const held = this.#members.flatMap((m) => this.#queues.get(m)!);
    if (this.#announce !== undefined && held.length > 0 && !this.#closed) {
      await this.#announce(held).catch(() => {}); // an optimisation only: a member that missed it decodes at signing time
    }
  }

  /** Stops pooling: what is held is forgotten (the members burn those commitments on their own, by eviction or restart). */
  close(): void {
    this.#closed = true;
    for (const m of this.#members) this.drop(m);
  }

  async #one(member: number): Promise<void> {
    if (this.#closed) return;
    const epoch = this.#epoch.get(member)!;
    this.#pending.set(member, this.#pending.get(member)! + 1);
    try {
      const c = await this.#fetch(member);
      // Decoded and subgroup-checked now, while idle; the points stay cached for the signature.
      if (c.member !== member || !isValidCommitment(c)) return;
      if (this.#closed || this.#epoch.get(member) !== epoch) return;
      const q = this.#queues.get(member)!;
      if (q.length < this.depth) q.push(c);
    } catch {
      // Unreachable or refusing: nothing pooled; a signature asks this member live (and judges it then).
    } finally {
      this.#pending.set(member, this.#pending.get(member)! - 1);
    }
  }
}
