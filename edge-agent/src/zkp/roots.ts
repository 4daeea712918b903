/**
 * The fleet roots a verifier accepts for membership: its current root, and the few roots it
 * held just before, each for a grace period after it was replaced.
 *
 * Why more than one: the tree changes when a board joins or leaves, and boards learn of the
 * change at slightly different moments; a proof made against the prover's (older or newer) tree
 * during that spread would otherwise fail for no fault of anyone's. Why only a few, and only
 * briefly: a board taken out of the tree can still prove against an older root; the grace period
 * bounds that revocation delay (default 60 s, at most 4 roots).
 */
import { ZkpError } from './errors.js';
import { assertField } from './field.js';

export interface RootHistoryOptions {
  /** How long a replaced root stays acceptable (ms, default 60 000). */
  readonly graceMs?: number;
  /** How many roots are kept, the current one included (default 4). */
  readonly maxRoots?: number;
}

function intOption(v: unknown, fallback: number, min: number, max: number, what: string): number {
  if (v === undefined) return fallback;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) throw new ZkpError('ARGUMENT', `${what} must be an integer in [${min}, ${max}]`);
  return v;
}

export function assertTime(now: unknown): number {
  if (typeof now !== 'number' || !Number.isFinite(now)) throw new ZkpError('ARGUMENT', 'now must be a finite number of milliseconds');
  return now;
}

export class RootHistory {
  readonly graceMs: number;
  readonly maxRoots: number;
  /** Newest first; replacedAt is undefined for the current root. */
  private roots: { root: bigint; replacedAt: number | undefined }[] = [];

  constructor(opts: RootHistoryOptions = {}) {
    this.graceMs = intOption(opts.graceMs, 60_000, 0, 24 * 3_600_000, 'graceMs');
    this.maxRoots = intOption(opts.maxRoots, 4, 1, 64, 'maxRoots');
  }

  /** The current root, if any was set. */
  get current(): bigint | undefined {
    return this.roots[0]?.root;
  }

  /** Makes `root` the current root at `now`; setting the current root again changes nothing. */
  set(root: bigint, now: number): void {
    assertField(root, 'root');
    assertTime(now);
    if (this.roots[0]?.root === root) return;
    const head = this.roots[0];
    if (head !== undefined) head.replacedAt = now;
    this.roots = [{ root, replacedAt: undefined }, ...this.roots.filter((r) => r.root !== root)].slice(0, this.maxRoots);
  }

  /** True for the current root, and for a recent root replaced no more than graceMs before `now`. */
  accepts(root: bigint, now: number): boolean {
    assertTime(now);
    const r = this.roots.find((x) => x.root === root);
    return r !== undefined && (r.replacedAt === undefined || now - r.replacedAt <= this.graceMs);
  }

  /** The acceptable roots at `now`, newest first. */
  accepted(now: number): bigint[] {
    return this.roots.filter((r) => this.accepts(r.root, now)).map((r) => r.root);
  }
}
