/**
 * The signing service's two cores, without I/O.
 *
 * SignerCore: one member. Holds its share and a nonce store; answers a
 * commitment request with a fresh commitment and a sign request with a share,
 * refusing anything inconsistent (its own unused commitment missing, members
 * out of range or repeated, a message over the limit or refused by policy).
 *
 * SigningCoordinator: a state machine fed with inputs (commitments, shares,
 * refusals, timer firings) that returns actions (requests to send, a timer to
 * set, the result). It picks t of the available members in a fixed order,
 * asks them all at once (signers work in parallel), aggregates, and checks the
 * aggregate with OpenSSL's Ed25519 verify. Only when that fails are shares
 * verified one by one (RFC 9591 §5.4, inside noble's aggregate) to name the
 * cheaters, who are excluded; silent members are dropped at the timeout; it
 * then retries with another set, a bounded number of times.
 */
import { ThresholdError } from './errors.js';
import {
  type GroupPublic,
  type MemberShare,
  type SignatureShare,
  type SigningCommitment,
  checkMemberShare,
  isValidCommitment,
  signShare,
  tryAggregate,
  verifyShare,
} from './frost.js';
import type { NonceSource } from './nonces.js';
import { verifyGroupSignature } from './verify.js';

/** Largest message a signer signs by default (the committee signs digests and small records, not files). */
export const DEFAULT_MAX_MESSAGE_BYTES = 64 * 1024;

// ---------------------------------------------------------------- signer

export interface SignRequest {
  readonly message: Uint8Array;
  readonly commitments: readonly SigningCommitment[];
}

export interface SignerOptions {
  readonly group: GroupPublic;
  readonly share: MemberShare;
  readonly nonces: NonceSource;
  readonly maxMessageBytes?: number;
  /** Policy: return false to refuse to sign this message (ABORTED). */
  readonly approve?: (message: Uint8Array) => boolean;
}

export class SignerCore {
  readonly member: number;
  readonly group: GroupPublic;
  readonly #share: MemberShare;
  readonly #nonces: NonceSource;
  readonly #maxMessageBytes: number;
  readonly #approve: ((message: Uint8Array) => boolean) | undefined;

  /** BAD_SHARE if the share does not match the group's verifying share for its member. */
  constructor(opts: SignerOptions) {
    if (typeof opts !== 'object' || opts === null) throw new ThresholdError('BAD_ARGUMENT', 'SignerCore: options must be an object');
    checkMemberShare(opts.share, opts.group);
    const nonces = opts.nonces as Partial<NonceSource> | undefined;
    if (typeof nonces?.commit !== 'function' || typeof nonces.take !== 'function' || typeof nonces.burn !== 'function') {
      throw new ThresholdError('BAD_ARGUMENT', 'SignerCore: nonces must be a NonceSource (NonceStore or MemoryNonceStore)');
    }
    const max = opts.maxMessageBytes ?? DEFAULT_MAX_MESSAGE_BYTES;
    if (!Number.isSafeInteger(max) || max < 0) throw new ThresholdError('BAD_ARGUMENT', 'SignerCore: maxMessageBytes must be a whole number');
    if (opts.approve !== undefined && typeof opts.approve !== 'function') throw new ThresholdError('BAD_ARGUMENT', 'SignerCore: approve must be a function');
    this.member = opts.share.member;
    this.group = opts.group;
    this.#share = opts.share;
    this.#nonces = opts.nonces;
    this.#maxMessageBytes = max;
    this.#approve = opts.approve;
  }

  /** Round one: a fresh commitment, durable in the nonce store before it is returned. */
  commit(): Promise<SigningCommitment> {
    return this.#nonces.commit(this.#share);
  }

  /**
   * Round two: this member's signature share for `request`. The nonces behind
   * its commitment are taken (and so burned) only after every check passed,
   * except a failure inside signing itself, after which they are gone too.
   */
  sign(request: SignRequest): SignatureShare {
    if (typeof request !== 'object' || request === null) throw new ThresholdError('BAD_ARGUMENT', 'sign: request must be an object');
    const { message, commitments } = request;
    const g = this.group;
    if (!(message instanceof Uint8Array)) throw new ThresholdError('MALFORMED', 'sign: message must be bytes');
    if (message.length > this.#maxMessageBytes) throw new ThresholdError('MALFORMED', `sign: message of ${message.length} bytes exceeds ${this.#maxMessageBytes}`);
    if (!Array.isArray(commitments) || commitments.length < g.threshold || commitments.length > g.size) {
      throw new ThresholdError('MALFORMED', `sign: expected ${g.threshold}..${g.size} commitments`);
    }
    const seen = new Set<number>();
    let own: SigningCommitment | undefined;
    for (const c of commitments) {
      if (typeof c !== 'object' || c === null || !Number.isInteger(c.member) || c.member < 1 || c.member > g.size) {
        throw new ThresholdError('MALFORMED', `sign: a commitment names no member of this ${g.size}-member group`);
      }
      if (!(c.hiding instanceof Uint8Array) || c.hiding.length !== 32 || !(c.binding instanceof Uint8Array) || c.binding.length !== 32) {
        throw new ThresholdError('MALFORMED', `sign: member ${c.member}'s commitment points must be 32 bytes each`);
      }
      if (seen.has(c.member)) throw new ThresholdError('MALFORMED', `sign: member ${c.member} appears twice in the commitment list`);
      seen.add(c.member);
      if (c.member === this.member) own = c;
    }
    if (own === undefined) throw new ThresholdError('MALFORMED', `sign: the commitment list does not include member ${this.member}`);
    if (this.#approve !== undefined && !this.#approve(message)) {
      throw new ThresholdError('ABORTED', `sign: member ${this.member}'s policy refuses this message`);
    }
    const nonces = this.#nonces.take(own); // NONCE_REUSE for a used, burned or unknown commitment
    return signShare(this.#share, g, nonces, commitments, message);
  }
}

// ---------------------------------------------------------------- coordinator

export type ExclusionReason = 'bad-share' | 'timeout' | 'malformed' | 'refused';

export interface Exclusion {
  readonly member: number;
  readonly reason: ExclusionReason;
}

export interface SigningResult {
  /** 64-byte Ed25519 signature under the group key. */
  readonly signature: Uint8Array;
  /** The members whose shares made it, ascending. */
  readonly signers: readonly number[];
  /** Members dropped along the way and why. */
  readonly excluded: readonly Exclusion[];
  /** Signing attempts used (1 when nothing went wrong). */
  readonly attempts: number;
}

export type CoordinatorAction =
  | { readonly type: 'request-commitment'; readonly attempt: number; readonly member: number }
  | {
      readonly type: 'request-share';
      readonly attempt: number;
      readonly member: number;
      readonly message: Uint8Array;
      readonly commitments: readonly SigningCommitment[];
    }
  /** Call onTimeout(timer) after `ms`; a later set-timer supersedes it. */
  | { readonly type: 'set-timer'; readonly timer: number; readonly ms: number }
  | { readonly type: 'done'; readonly result: SigningResult }
  | { readonly type: 'failed'; readonly error: ThresholdError };

export interface CoordinatorOptions {
  readonly group: GroupPublic;
  readonly message: Uint8Array;
  /** Members believed reachable; the coordinator picks among them in ascending order. */
  readonly available: readonly number[];
  /** Members never to ask (known cheaters from earlier sessions). */
  readonly exclude?: readonly number[];
  /** Signing attempts before giving up (default 3). */
  readonly maxAttempts?: number;
  /** How long each round waits for answers, ms (default 2000). */
  readonly timeoutMs?: number;
}

type Phase = 'idle' | 'commit' | 'share' | 'finished';

export class SigningCoordinator {
  readonly group: GroupPublic;
  readonly message: Uint8Array;
  readonly #pool: number[];
  readonly #maxAttempts: number;
  readonly #timeoutMs: number;
  readonly #excluded = new Map<number, ExclusionReason>();
  #phase: Phase = 'idle';
  #attempt = 0;
  #timer = 0;
  #selected: number[] = [];
  #commitments = new Map<number, SigningCommitment>();
  #list: SigningCommitment[] = [];
  #shares = new Map<number, SignatureShare>();
  /** Members that refused a pooled commitment as stale once already. */
  readonly #stale = new Set<number>();

  constructor(opts: CoordinatorOptions) {
    if (typeof opts !== 'object' || opts === null) throw new ThresholdError('BAD_ARGUMENT', 'SigningCoordinator: options must be an object');
    const g = opts.group;
    if (typeof g !== 'object' || g === null || typeof g.frost !== 'object') throw new ThresholdError('BAD_ARGUMENT', 'SigningCoordinator: group must be a GroupPublic');
    if (!(opts.message instanceof Uint8Array)) throw new ThresholdError('BAD_ARGUMENT', 'SigningCoordinator: message must be a Uint8Array');
    const members = (list: unknown, what: string): number[] => {
      if (!Array.isArray(list)) throw new ThresholdError('BAD_ARGUMENT', `SigningCoordinator: ${what} must be an array of members`);
      for (const m of list) {
        if (!Number.isInteger(m) || m < 1 || m > g.size) throw new ThresholdError('BAD_ARGUMENT', `SigningCoordinator: ${what} names ${String(m)}, not a member in 1..${g.size}`);
      }
      return list as number[];
    };
    const exclude = new Set(members(opts.exclude ?? [], 'exclude'));
    this.#pool = [...new Set(members(opts.available, 'available'))].filter((m) => !exclude.has(m)).sort((a, b) => a - b);
    const maxAttempts = opts.maxAttempts ?? 3;
    if (!Number.isInteger(maxAttempts) || maxAttempts < 1 || maxAttempts > 100) throw new ThresholdError('BAD_ARGUMENT', 'SigningCoordinator: maxAttempts must be an integer in 1..100');
    const timeoutMs = opts.timeoutMs ?? 2000;
    if (!(Number.isFinite(timeoutMs) && timeoutMs > 0)) throw new ThresholdError('BAD_ARGUMENT', 'SigningCoordinator: timeoutMs must be a positive number');
    this.group = g;
    this.message = opts.message;
    this.#maxAttempts = maxAttempts;
    this.#timeoutMs = timeoutMs;
  }

  get finished(): boolean {
    return this.#phase === 'finished';
  }

  get attempt(): number {
    return this.#attempt;
  }

  /** Members excluded so far, and why. */
  get excluded(): readonly Exclusion[] {
    return [...this.#excluded].map(([member, reason]) => ({ member, reason }));
  }

  /** The first requests. */
  start(): CoordinatorAction[] {
    if (this.#phase !== 'idle') throw new ThresholdError('BAD_ARGUMENT', 'SigningCoordinator: already started');
    return this.#newAttempt();
  }

  /** A member's round-one answer for `attempt` (decoded by the shell; `from` is who sent it). */
  onCommitment(attempt: number, from: number, commitment: SigningCommitment): CoordinatorAction[] {
    if (this.#phase !== 'commit' || attempt !== this.#attempt || !this.#selected.includes(from) || this.#commitments.has(from)) return [];
    if (typeof commitment !== 'object' || commitment === null || commitment.member !== from) return this.onRefusal(attempt, from, 'malformed');
    this.#commitments.set(from, commitment);
    if (this.#commitments.size < this.#selected.length) return [];
    // Everyone committed: round two, all at once.
    this.#phase = 'share';
    this.#list = [...this.#commitments.values()].sort((a, b) => a.member - b.member);
    const out: CoordinatorAction[] = this.#list.map((c) => ({
      type: 'request-share',
      attempt: this.#attempt,
      member: c.member,
      message: this.message,
      commitments: this.#list,
    }));
    out.push(this.#setTimer());
    return out;
  }

  /** A member's round-two answer for `attempt`. */
  onShare(attempt: number, from: number, share: SignatureShare): CoordinatorAction[] {
    if (this.#phase !== 'share' || attempt !== this.#attempt || !this.#selected.includes(from) || this.#shares.has(from)) return [];
    if (typeof share !== 'object' || share === null || share.member !== from || !(share.share instanceof Uint8Array) || share.share.length !== 32) {
      return this.onRefusal(attempt, from, 'malformed');
    }
    this.#shares.set(from, share);
    if (this.#shares.size < this.#selected.length) return [];
    return this.#aggregate();
  }

  /**
   * A member refused, or its answer would not decode: it is dropped for this
   * session. Except when a refusal in round two is the honest answer to a bad
   * commitment list: commitments are only decoded on receipt (the subgroup check
   * costs a scalar multiplication per point, and noble makes it anyway), so on a
   * refusal they are checked in full first, and the senders of invalid ones are
   * dropped instead of the member that rightly refused them.
   *
   * 'stale': the member refused (NONCE_REUSE) a commitment the shell took from
   * a pool fetched ahead; the commitment was dead (burned by a restart), so
   * the first time it starts a new attempt without excluding the member.
   */
  onRefusal(attempt: number, from: number, reason: 'malformed' | 'refused' | 'stale'): CoordinatorAction[] {
    if (attempt !== this.#attempt || !this.#selected.includes(from) || (this.#phase !== 'commit' && this.#phase !== 'share')) return [];
    if (reason === 'stale') {
      // A commitment fetched ahead that its member no longer honours (it restarted): not the member's fault
      // once; the next attempt asks it for a fresh one. Twice is a refusal like any other.
      if (this.#phase === 'share' && !this.#stale.has(from)) {
        this.#stale.add(from);
        return this.#newAttempt();
      }
      reason = 'refused';
    }
    if (this.#phase === 'share') {
      const bad = this.#list.filter((c) => !isValidCommitment(c)).map((c) => c.member);
      if (bad.length > 0) {
        this.#exclude(bad, 'malformed');
        return this.#newAttempt();
      }
    }
    this.#exclude([from], reason);
    return this.#phase === 'commit' ? this.#replace() : this.#newAttempt();
  }

  /** The timer from the latest set-timer fired: members that did not answer are dropped. */
  onTimeout(timer: number): CoordinatorAction[] {
    if (timer !== this.#timer || (this.#phase !== 'commit' && this.#phase !== 'share')) return [];
    const answered = this.#phase === 'commit' ? this.#commitments : this.#shares;
    const silent = this.#selected.filter((m) => !answered.has(m));
    this.#exclude(silent, 'timeout');
    // Round one: keep the commitments in hand (still unused) and ask replacements.
    // Round two: the others' nonces are spent, so start over with fresh commitments.
    return this.#phase === 'commit' ? this.#replace() : this.#newAttempt();
  }

  #aggregate(): CoordinatorAction[] {
    const shares = this.#list.map((c) => this.#shares.get(c.member)!);
    const out = tryAggregate(this.group, this.#list, this.message, shares);
    let cheaters: readonly number[];
    if (out.ok) {
      // noble checked the aggregate its way; this is the check every outside verifier makes.
      if (verifyGroupSignature(this.group, out.signature, this.message)) {
        this.#phase = 'finished';
        const result: SigningResult = {
          signature: out.signature,
          signers: this.#list.map((c) => c.member),
          excluded: this.excluded,
          attempts: this.#attempt,
        };
        return [{ type: 'done', result }];
      }
      cheaters = shares.filter((s) => !verifyShare(this.group, this.#list, this.message, s)).map((s) => s.member);
    } else {
      cheaters = out.cheaters;
    }
    if (cheaters.length === 0) {
      return this.#fail('ABORTED', `attempt ${this.#attempt}: the aggregate signature does not verify and no share could be blamed`);
    }
    this.#exclude(cheaters, 'bad-share');
    return this.#newAttempt();
  }

  #newAttempt(): CoordinatorAction[] {
    if (this.#attempt >= this.#maxAttempts) {
      return this.#fail('ABORTED', `gave up after ${this.#attempt} signing attempts`);
    }
    this.#attempt++;
    this.#phase = 'commit';
    this.#selected = [];
    this.#commitments = new Map();
    this.#shares = new Map();
    this.#list = [];
    return this.#replace();
  }

  /** Fills the selection up to t from the pool (ascending, skipping excluded) and asks the newcomers. */
  #replace(): CoordinatorAction[] {
    const t = this.group.threshold;
    this.#selected = this.#selected.filter((m) => !this.#excluded.has(m));
    const fresh: number[] = [];
    for (const m of this.#pool) {
      if (this.#selected.length >= t) break;
      if (this.#excluded.has(m) || this.#selected.includes(m)) continue;
      this.#selected.push(m);
      fresh.push(m);
    }
    if (this.#selected.length < t) {
      const usable = this.#pool.filter((m) => !this.#excluded.has(m)).length;
      return this.#fail('NOT_ENOUGH_SIGNERS', `only ${usable} usable members left of ${this.#pool.length} available; ${t} needed`);
    }
    this.#selected.sort((a, b) => a - b);
    const out: CoordinatorAction[] = fresh.map((member) => ({ type: 'request-commitment', attempt: this.#attempt, member }));
    out.push(this.#setTimer());
    return out;
  }

  #setTimer(): CoordinatorAction {
    return { type: 'set-timer', timer: ++this.#timer, ms: this.#timeoutMs };
  }

  #exclude(members: readonly number[], reason: ExclusionReason): void {
    for (const m of members) if (!this.#excluded.has(m)) this.#excluded.set(m, reason);
  }

  #fail(code: 'ABORTED' | 'NOT_ENOUGH_SIGNERS', why: string): CoordinatorAction[] {
    this.#phase = 'finished';
    const excluded = this.excluded;
    const detail = excluded.length ? `; excluded: ${excluded.map((e) => `${e.member} (${e.reason})`).join(', ')}` : '';
    const error = new ThresholdError(code, `signing: ${why}${detail}`, { culprits: excluded.map((e) => String(e.member)) });
    return [{ type: 'failed', error }];
  }
}
