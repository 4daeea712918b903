/**
 * The verifier's side of challenge-response, without I/O: it issues challenges bound to a
 * channel and judges the answers. The shell (ask.ts) supplies the nonce (32 random bytes), the
 * channel's handshake hash and the time; this object only remembers and decides.
 *
 * A challenge is single-use and expires after ttlMs. An answer names the nonce it answers and
 * carries the proof with its public signals (proof-codec.ts); it is judged in this order, the
 * first failure giving the typed error:
 *   nonce unknown or issued on another channel → WRONG_CHALLENGE; already answered → REPLAY;
 *   expired → STALE; (the challenge is spent from here on) bytes not a proof of 3 signals →
 *   MALFORMED; its challenge signal is not ours → WRONG_CHALLENGE; membership root not
 *   accepted (roots.ts) → WRONG_ROOT; key-possession commitment not the expected one →
 *   WRONG_COMMITMENT; nullifier / response seen before → REPLAY; pairing check fails → BAD_PROOF.
 * Used challenges and accepted nullifiers are remembered for 2 × ttlMs after issue, so a
 * replay within that window reads REPLAY; later, the nonce is simply unknown (WRONG_CHALLENGE).
 */
import { challengeFor, assertProofKind, NONCE_BYTES, type ProofKind } from './challenge.js';
import { ZkpError } from './errors.js';
import { assertField } from './field.js';
import type { Groth16Proof } from './proof.js';
import { decodeProofResult } from './proof-codec.js';
import { RootHistory, assertTime } from './roots.js';

/** What judges a proof's pairing equation: a Verifier, or a stand-in in tests. */
export interface ProofCheck {
  verify(publicSignals: readonly bigint[], proof: Groth16Proof): Promise<boolean>;
}

export interface IssuedChallenge {
  readonly kind: ProofKind;
  readonly nonce: Uint8Array;
  /** The field element the proof must carry (challenge.ts). */
  readonly challenge: bigint;
  readonly issuedAt: number;
  /** Answers after this instant are STALE. */
  readonly expiresAt: number;
  /** Membership: the verifier's current root, sent as a hint so a prover can prove against it. */
  readonly root: bigint | undefined;
  /** Key possession: the commitment the proof must be for. */
  readonly commitment: bigint | undefined;
}

export interface ChallengeAnswer {
  readonly nonce: Uint8Array;
  /** encodeProofResult bytes. */
  readonly proof: Uint8Array;
}

export interface AcceptedProof {
  readonly kind: ProofKind;
  readonly challenge: bigint;
  /** The nullifier (membership) or response (key possession): Poseidon(secret, challenge). */
  readonly nullifier: bigint;
  /** Membership: the root the proof is for (current or recent). */
  readonly root: bigint | undefined;
  /** Key possession: the commitment proven. */
  readonly commitment: bigint | undefined;
}

export interface ChallengeBookOptions {
  /** One checker per kind this verifier asks for. */
  readonly verifiers: Partial<Record<ProofKind, ProofCheck>>;
  /** How long a challenge may be answered (ms, default 30 000). */
  readonly ttlMs?: number;
  /** Unanswered, unexpired challenges at most (default 1024); more is BUSY. */
  readonly maxOutstanding?: number;
  /** The roots membership proofs may be for; the owner keeps it current with roots.set(). */
  readonly roots?: RootHistory;
}

interface Entry {
  readonly issued: IssuedChallenge;
  readonly handshakeHash: Uint8Array;
  used: boolean;
}

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && Buffer.compare(a, b) === 0;
}

export class ChallengeBook {
  readonly ttlMs: number;
  readonly maxOutstanding: number;
  readonly roots: RootHistory;
  private readonly verifiers: Partial<Record<ProofKind, ProofCheck>>;
  /** By nonce (hex), in issue order: pruning walks from the front. */
  private readonly entries = new Map<string, Entry>();
  /** Accepted nullifiers and responses, with the time they may be forgotten. */
  private readonly seen = new Map<bigint, number>();

  constructor(opts: ChallengeBookOptions) {
    if (typeof opts !== 'object' || opts === null || typeof opts.verifiers !== 'object' || opts.verifiers === null) {
      throw new ZkpError('ARGUMENT', 'a ChallengeBook needs { verifiers }');
    }
    for (const [kind, v] of Object.entries(opts.verifiers)) {
      assertProofKind(kind);
      if (typeof v?.verify !== 'function') throw new ZkpError('ARGUMENT', `the ${kind} verifier must have verify()`);
    }
    const int = (v: unknown, fallback: number, min: number, max: number, what: string): number => {
      if (v === undefined) return fallback;
      if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) throw new ZkpError('ARGUMENT', `${what} must be an integer in [${min}, ${max}]`);
      return v;
    };
    this.ttlMs = int(opts.ttlMs, 30_000, 1, 3_600_000, 'ttlMs');
    this.maxOutstanding = int(opts.maxOutstanding, 1024, 1, 1 << 20, 'maxOutstanding');
    if (opts.roots !== undefined && !(opts.roots instanceof RootHistory)) throw new ZkpError('ARGUMENT', 'roots must be a RootHistory');
    this.roots = opts.roots ?? new RootHistory();
    this.verifiers = { ...opts.verifiers };
  }

  /**
   * A fresh challenge on the channel with this handshake hash. nonce: 32 random bytes from the
   * shell. Membership needs a current root; key possession the commitment expected of the peer.
   */
  issue(kind: ProofKind, ctx: { handshakeHash: Uint8Array; nonce: Uint8Array; now: number; commitment?: bigint }): IssuedChallenge {
    assertProofKind(kind);
    if (typeof ctx !== 'object' || ctx === null) throw new ZkpError('ARGUMENT', 'issue needs { handshakeHash, nonce, now }');
    const now = assertTime(ctx.now);
    if (this.verifiers[kind] === undefined) throw new ZkpError('ARGUMENT', `this book has no ${kind} verifier`);
    const challenge = challengeFor(kind, ctx.handshakeHash, ctx.nonce);
    let root: bigint | undefined;
    let commitment: bigint | undefined;
    if (kind === 'membership') {
      root = this.roots.current;
      if (root === undefined) throw new ZkpError('ARGUMENT', 'no fleet root yet: set roots before asking for membership');
    } else {
      commitment = assertField(ctx.commitment, 'commitment');
    }
    this.prune(now);
    const id = hex(ctx.nonce);
    if (this.entries.has(id)) throw new ZkpError('ARGUMENT', 'this nonce was already used for a challenge');
    if (this.outstanding(now) >= this.maxOutstanding) throw new ZkpError('BUSY', `${this.maxOutstanding} challenges are outstanding`);
    const issued: IssuedChallenge = Object.freeze({
      kind,
      nonce: Uint8Array.from(ctx.nonce),
      challenge,
      issuedAt: now,
      expiresAt: now + this.ttlMs,
      root,
      commitment,
    });
    this.entries.set(id, { issued, handshakeHash: Uint8Array.from(ctx.handshakeHash), used: false });
    return issued;
  }

  /** Judges an answer that came on the channel with this handshake hash; throws the reason it is refused. */
  async check(answer: ChallengeAnswer, ctx: { handshakeHash: Uint8Array; now: number }): Promise<AcceptedProof> {
    if (typeof answer !== 'object' || answer === null || !(answer.nonce instanceof Uint8Array) || answer.nonce.length !== NONCE_BYTES || !(answer.proof instanceof Uint8Array)) {
      throw new ZkpError('MALFORMED', 'an answer is { nonce: 32 bytes, proof: bytes }');
    }
    if (typeof ctx !== 'object' || ctx === null || !(ctx.handshakeHash instanceof Uint8Array)) throw new ZkpError('ARGUMENT', 'check needs { handshakeHash, now }');
    const now = assertTime(ctx.now);
    const entry = this.entries.get(hex(answer.nonce));
    // Another channel's nonce is not ours to spend: refused without consuming it.
    if (entry === undefined || !sameBytes(entry.handshakeHash, ctx.handshakeHash)) {
      throw new ZkpError('WRONG_CHALLENGE', 'no challenge with this nonce was issued on this channel');
    }
    if (entry.used) throw new ZkpError('REPLAY', 'this challenge was already answered');
    entry.used = true;
    const { issued } = entry;
    if (now > issued.expiresAt) throw new ZkpError('STALE', `the challenge expired ${now - issued.expiresAt} ms before the answer`);

    let result;
    try {
      result = decodeProofResult(answer.proof);
    } catch (err) {
      if (err instanceof ZkpError) throw new ZkpError('MALFORMED', `the proof does not decode (${err.code}: ${err.message})`, { cause: err });
      throw err;
    }
    if (result.publicSignals.length !== 3) throw new ZkpError('MALFORMED', `a ${issued.kind} proof has 3 public signals, not ${result.publicSignals.length}`);
    const [nullifier, bound, challenge] = result.publicSignals as [bigint, bigint, bigint];
    if (challenge !== issued.challenge) throw new ZkpError('WRONG_CHALLENGE', 'the proof answers another challenge (another nonce or another channel)');
    if (issued.kind === 'membership') {
      if (!this.roots.accepts(bound, now)) throw new ZkpError('WRONG_ROOT', 'the proof is for a root that is not one of the fleet roots accepted now');
    } else if (bound !== issued.commitment) {
      throw new ZkpError('WRONG_COMMITMENT', 'the proof is for another commitment than the peer\'s');
    }
    if (this.seen.has(nullifier)) throw new ZkpError('REPLAY', 'this nullifier was already accepted');
    const ok = await this.verifiers[issued.kind]!.verify(result.publicSignals, result.proof);
    if (!ok) throw new ZkpError('BAD_PROOF', `the ${issued.kind} proof does not verify`);
    // Checked again: another answer with the same nullifier may have been accepted while we waited.
    if (this.seen.has(nullifier)) throw new ZkpError('REPLAY', 'this nullifier was already accepted');
    this.seen.set(nullifier, issued.issuedAt + 2 * this.ttlMs);
    return Object.freeze({
      kind: issued.kind,
      challenge,
      nullifier,
      root: issued.kind === 'membership' ? bound : undefined,
      commitment: issued.kind === 'keyPossession' ? bound : undefined,
    });
  }

  /** Forgets a challenge whose answer will never come (the request failed); it can no longer be answered. */
  withdraw(nonce: Uint8Array): void {
    if (!(nonce instanceof Uint8Array)) throw new ZkpError('ARGUMENT', 'nonce must be bytes');
    const entry = this.entries.get(hex(nonce));
    if (entry !== undefined) entry.used = true;
  }

  /** Unanswered challenges that have not expired at `now`. */
  outstanding(now: number): number {
    assertTime(now);
    let n = 0;
    for (const e of this.entries.values()) if (!e.used && now <= e.issued.expiresAt) n++;
    return n;
  }

  /** Drops what is older than 2 × ttlMs; every issue() does it. */
  prune(now: number): void {
    assertTime(now);
    for (const [id, e] of this.entries) {
      if (now <= e.issued.issuedAt + 2 * this.ttlMs) break;
      this.entries.delete(id);
    }
    for (const [n, until] of this.seen) if (now > until) this.seen.delete(n);
  }
}
