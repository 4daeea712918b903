import { randomBytes } from '@noble/hashes/utils.js';
import { ThresholdError } from './errors.js';
import { DealingCache } from './dkg-cache.js';
import {
  bytesEqual,
  decodeIncoming,
  decodeSigned,
  encodeRelay,
  hex,
  relayBytes,
  signMessage,
  type Body,
  type MessageLimits,
  type Payload,
  type SignedMessage,
} from './dkg-messages.js';
import { provePossession, verifyPossession } from './dkg-pok.js';
import { judge } from './dkg-verdict.js';
import {
  DROP_REASONS,
  type DkgAbort,
  type DkgAction,
  type DkgDone,
  type DkgSigner,
  type DkgStats,
  type DkgStatus,
  type DkgVerifier,
  type Disqualification,
  type DropReason,
  type EquivocationProof,
  type Participant,
} from './dkg-types.js';
import { combineCommitments, evalCommitment, evalPolynomial, Point, pointFromBytes, randomPolynomial, commitPolynomial, scalarFromBytes, scalarToBytes, type EdPoint, Fn } from './vss.js';

/**
 * One member of a dealing session: every dealer shares a polynomial of degree t−1 among
 * the receivers (Pedersen's DKG with Feldman commitments and GJKR's complaint round).
 * DKG, refresh and resharing differ only in the constant term (free with a proof of
 * knowledge, zero, or the dealer's old share) and in how the qualified sharings are
 * combined, which the caller passes as `combine`.
 *
 * Time runs in phases of Δ (`delta`, the bound on delivery between honest members):
 *   [start, start+Δ]            round 1 packages (broadcast) and shares (private) travel
 *   start+Δ                     echo: sha256 of each dealer's package as received
 *   start+2Δ = We               anyone whose echo disagrees with what it holds posts it as evidence
 *   We+LΔ = Wc                  views are final; bad or missing shares give signed complaints
 *   Wc+LΔ = Wa                  last moment to accept a complaint (the accused answers at once)
 *   Wa+LΔ                       decide
 * Evidence, complaints and answers decide who is disqualified, so every honest member must
 * hold the same set of them: each is relayed once with the relayer's signature added and an
 * item with a chain of c signers is accepted until W + cΔ, for c ≤ L = faults+1
 * (Dolev–Strong). Whatever one honest member accepted, all have accepted by W + LΔ.
 * Everything else (echoes, late packages) only triggers evidence, never a verdict.
 *
 * The early finish. A participant that holds, by start+Δ, exactly one valid package from every
 * dealer and (as a receiver) a valid share from each, posts an `ok` item: the digests of those
 * packages and a promise never to complain. Oks are items like the others (window start+Δ, relayed
 * with signatures). A member is *certified* when it posted its own ok with digests V and every
 * other participant has an ok with V, or has posted two different oks (only a byzantine party
 * equivocates; its oks prove nothing either way). Certification is monotone in the items held, so
 * a member certified at any time knows that every honest member is certified by start+(1+L)Δ:
 * every honest participant signed V (an honest party posts one ok), so all hold the same packages
 * and valid shares from every dealer, and nobody can be disqualified except by the deterministic
 * subgroup check. A certified member decides at once, with every dealer qualified; the schedule
 * above is then moot for everyone. Oks are capped at two per party, which loses nothing.
 */

export type ConstantRule =
  /** DKG: a_0 is the dealer's secret, proven known (Schnorr, bound to session and dealer). */
  | { readonly kind: 'proof' }
  /** Refresh: a sharing of zero, C_0 must be the identity. */
  | { readonly kind: 'zero' }
  /** Resharing: C_0 must be the dealer's old verifying share. */
  | { readonly kind: 'fixed'; readonly expected: ReadonlyMap<number, EdPoint> };

/** What the dealing produced, handed to `combine` (all honest members pass equal values). */
export interface Qualified {
  /** Qualified dealers, ascending by party. */
  readonly dealers: readonly Participant[];
  /** Each qualified dealer's commitments. */
  readonly commitments: ReadonlyMap<number, readonly EdPoint[]>;
  /** Σ w_i·C_i over the qualified dealers (weights from the config), checked in the prime-order subgroup. */
  readonly merged: readonly EdPoint[];
  /** The weights used, one per qualified dealer. */
  readonly weights: readonly bigint[];
  /** This member's share from each qualified dealer (empty when it is not a receiver). */
  readonly shares: ReadonlyMap<number, bigint>;
  readonly disqualified: readonly Disqualification[];
  readonly equivocations: readonly EquivocationProof[];
}

/** What every dealing (DKG, refresh, resharing) is configured with, besides its participants and rule. */
export interface DealingOptions {
  readonly sessionId: Uint8Array;
  /** Virtual or real time (ms) at which round 1 starts, and the delivery bound Δ. */
  readonly start: number;
  readonly delta: number;
  readonly signer: DkgSigner;
  readonly verifier: DkgVerifier;
  readonly rng?: (n: number) => Uint8Array;
  /** Byzantine members tolerated (relay depth L = faults + 1); each kind of dealing has its default. */
  readonly faults?: number;
  readonly maxMessageBytes?: number;
  /** 'disqualify' (default) drops a proven equivocator; 'abort' makes everyone abort naming it. */
  readonly onEquivocation?: 'disqualify' | 'abort';
  readonly cache?: DealingCache;
}

/** The SessionConfig fields that come straight from DealingOptions (`faults` defaulting to `defaultFaults`). */
export function dealingBasics(c: DealingOptions, defaultFaults: number) {
  return {
    sessionId: c.sessionId,
    start: c.start,
    delta: c.delta,
    signer: c.signer,
    verifier: c.verifier,
    faults: c.faults ?? defaultFaults,
    ...(c.rng ? { rng: c.rng } : {}),
    ...(c.maxMessageBytes ? { maxMessageBytes: c.maxMessageBytes } : {}),
    ...(c.onEquivocation ? { onEquivocation: c.onEquivocation } : {}),
    ...(c.cache ? { cache: c.cache } : {}),
  };
}

export interface SessionConfig {
  readonly sessionId: Uint8Array;
  readonly self: number;
  readonly dealers: readonly Participant[];
  readonly receivers: readonly Participant[];
  /** t: the polynomial has degree t−1. */
  readonly threshold: number;
  /** Abort unless at least this many dealers qualify. */
  readonly minQualified: number;
  /** The most byzantine participants tolerated; sets the relay depth L = faults+1. */
  readonly faults: number;
  readonly constant: ConstantRule;
  /** The constant term this member deals: required for 'fixed', ignored for 'zero', random if absent for 'proof'. */
  readonly secret?: bigint;
  readonly start: number;
  readonly delta: number;
  readonly signer: DkgSigner;
  readonly verifier: DkgVerifier;
  readonly rng?: (n: number) => Uint8Array;
  readonly maxMessageBytes?: number;
  /** 'disqualify' (default) drops a proven equivocator; 'abort' makes everyone abort naming it. */
  readonly onEquivocation?: 'disqualify' | 'abort';
  readonly cache?: DealingCache;
  /** Weights of the qualified dealers' sharings (resharing: Lagrange coefficients); default all 1. */
  readonly weights?: (dealers: readonly Participant[]) => bigint[];
  readonly combine: (q: Qualified) => DkgDone | DkgAbort;
}

const ITEM_KINDS = new Set(['evidence', 'complaint', 'answer', 'ok']);

function fail(message: string): never {
  throw new ThresholdError('BAD_ARGUMENT', message);
}

function checkParticipants(name: string, list: readonly Participant[]): void {
  if (!Array.isArray(list) || list.length === 0 || list.length > 1024) fail(`${name} must list 1 to 1024 participants`);
  const parties = new Set<number>();
  const indices = new Set<number>();
  for (const p of list) {
    if (typeof p !== 'object' || p === null) fail(`${name} holds a non-object`);
    if (!Number.isSafeInteger(p.party) || p.party < 0 || p.party > 0xffffffff) fail(`${name}: party ${String(p.party)} is not a u32`);
    if (!Number.isSafeInteger(p.index) || p.index < 1 || p.index > 0xffffffff) fail(`${name}: index ${String(p.index)} is not in 1..2^32-1`);
    if (parties.has(p.party) || indices.has(p.index)) fail(`${name}: party ${p.party} or index ${p.index} repeats`);
    parties.add(p.party);
    indices.add(p.index);
  }
}

export function validateSessionConfig(c: SessionConfig): void {
  if (typeof c !== 'object' || c === null) fail('session config must be an object');
  if (!(c.sessionId instanceof Uint8Array) || c.sessionId.length < 16 || c.sessionId.length > 64) fail('sessionId must be 16 to 64 bytes');
  checkParticipants('dealers', c.dealers);
  checkParticipants('receivers', c.receivers);
  if (!c.dealers.some((p) => p.party === c.self) && !c.receivers.some((p) => p.party === c.self)) fail(`self ${c.self} is neither a dealer nor a receiver`);
  if (!Number.isSafeInteger(c.threshold) || c.threshold < 2 || c.threshold > c.receivers.length) fail(`threshold must be from 2 to ${c.receivers.length}`);
  if (!Number.isSafeInteger(c.minQualified) || c.minQualified < 1 || c.minQualified > c.dealers.length) fail(`minQualified must be from 1 to ${c.dealers.length}`);
  if (!Number.isSafeInteger(c.faults) || c.faults < 0 || c.faults > 64) fail('faults must be an integer from 0 to 64');
  if (!Number.isFinite(c.start) || !Number.isFinite(c.delta) || c.delta <= 0) fail('start must be finite and delta positive');
  if (typeof c.signer?.sign !== 'function' || typeof c.verifier?.verify !== 'function') fail('signer and verifier are required');
  if (typeof c.combine !== 'function') fail('combine is required');
  const rule = c.constant;
  if (rule?.kind !== 'proof' && rule?.kind !== 'zero' && rule?.kind !== 'fixed') fail('constant rule must be proof, zero or fixed');
  if (rule.kind === 'fixed') {
    for (const d of c.dealers) if (!(rule.expected.get(d.party) instanceof Point)) fail(`no expected C_0 for dealer ${d.party}`);
  }
  const isDealer = c.dealers.some((p) => p.party === c.self);
  if (isDealer && rule.kind === 'fixed' && typeof c.secret !== 'bigint') fail('a resharing dealer must give its share as secret');
  if (c.secret !== undefined && (typeof c.secret !== 'bigint' || c.secret < 0n || c.secret >= Fn.ORDER)) fail('secret must be a scalar');
  if (c.maxMessageBytes !== undefined && (!Number.isSafeInteger(c.maxMessageBytes) || c.maxMessageBytes < 1024 || c.maxMessageBytes > 1 << 20)) {
    fail('maxMessageBytes must be from 1 KiB to 1 MiB');
  }
}

interface Answer {
  readonly share: bigint;
}

export class DealingSession {
  private readonly c: SessionConfig;
  private readonly sid: Uint8Array;
  private readonly levels: number;
  private readonly limits: MessageLimits;
  private readonly cache: DealingCache;
  private readonly rng: (n: number) => Uint8Array;
  private readonly dealerByParty = new Map<number, Participant>();
  private readonly receiverByParty = new Map<number, Participant>();
  private readonly selfDealer: Participant | undefined;
  private readonly selfReceiver: Participant | undefined;
  private readonly times: { r1: number; echo: number; we: number; wc: number; wa: number; end: number };

  private coefficients: bigint[] | undefined;
  private phase = 0; // 0 before start, 1 dealt, 2 echoed, 3 evidence posted, 4 views final, 5 finished
  private status: DkgStatus = 'running';
  private readonly direct = new Map<number, SignedMessage[]>();
  private readonly evidence = new Map<number, SignedMessage[]>();
  private readonly echoes = new Map<number, readonly Uint8Array[]>();
  private readonly shares = new Map<number, bigint | null>();
  private readonly items = new Set<string>();
  private readonly complaints = new Map<number, Set<number>>(); // accused -> complainers
  private readonly answers = new Map<string, Answer[]>(); // `${accused}:${to}` -> answers
  private readonly answered = new Set<number>(); // complainers this member answered
  private readonly participants: readonly number[];
  private readonly oks = new Map<number, Set<string>>(); // party -> digest vectors of its oks (at most 2)
  private okDigests: string | undefined; // our own ok's digests, once posted
  private fast = false;
  private views: Map<number, readonly EdPoint[]> | undefined;
  private readonly drops: Record<DropReason, number>;
  private sent = 0;
  private relayed = 0;

  constructor(config: SessionConfig) {
    validateSessionConfig(config);
    this.c = config;
    this.sid = config.sessionId.slice();
    this.levels = config.faults + 1;
    const n = Math.max(config.dealers.length, config.receivers.length);
    this.limits = {
      maxBytes: config.maxMessageBytes ?? Math.max(4096, 256 + 40 * config.threshold + 36 * n + 72 * this.levels + 256),
      maxItems: 4 * (n + config.threshold + this.levels) + 16,
    };
    this.cache = config.cache ?? new DealingCache(4096);
    this.rng = config.rng ?? randomBytes;
    for (const d of config.dealers) this.dealerByParty.set(d.party, d);
    for (const r of config.receivers) this.receiverByParty.set(r.party, r);
    this.selfDealer = this.dealerByParty.get(config.self);
    this.selfReceiver = this.receiverByParty.get(config.self);
    this.participants = [...new Set([...this.dealerByParty.keys(), ...this.receiverByParty.keys()])].sort((a, b) => a - b);
    const { start, delta } = config;
    const L = this.levels;
    const we = start + 2 * delta;
    const wc = we + L * delta;
    const wa = wc + L * delta;
    this.times = { r1: start + delta, echo: we, we, wc, wa, end: wa + L * delta };
    const drops = {} as Record<DropReason, number>;
    for (const r of DROP_REASONS) drops[r] = 0;
    this.drops = drops;
  }

  get state(): DkgStatus {
    return this.status;
  }

  /** The phase boundaries (see the header): when evidence, complaints and answers open, and the end. */
  get schedule(): { readonly r1: number; readonly echo: number; readonly evidence: number; readonly complaints: number; readonly answers: number; readonly end: number } {
    const t = this.times;
    return { r1: t.r1, echo: t.echo, evidence: t.we, complaints: t.wc, answers: t.wa, end: t.end };
  }

  get stats(): DkgStats {
    return { dropped: { ...this.drops }, sent: this.sent, relayed: this.relayed, early: this.fast };
  }

  /**
   * The latest time by which every honest member decides, as far as this member can tell: once it decided
   * early, start+(1+L)Δ (all honest members are certified by then); otherwise the schedule's end. A key
   * confirmation round waits at least until then.
   */
  get decisionBound(): number {
    return this.fast ? this.times.r1 + this.levels * this.c.delta : this.times.end;
  }

  /** When the shell should call tick next; undefined once finished. */
  nextDeadline(): number | undefined {
    const t = this.times;
    return [this.c.start, t.r1, t.echo, t.wc, t.end][this.phase];
  }

  /** Advances time: deals at start, echoes, posts evidence and complaints, decides at the end. */
  tick(now: number): DkgAction[] {
    if (typeof now !== 'number' || !Number.isFinite(now)) fail(`tick: now must be a finite number, got ${String(now)}`);
    const out: DkgAction[] = [];
    if (this.status !== 'running') return out;
    if (this.phase === 0 && now >= this.c.start) this.deal(out);
    if (this.phase === 1 && now >= this.times.r1) this.echo(out);
    if (this.phase === 2 && now >= this.times.echo) this.postEvidence(out);
    if (this.phase === 3 && now >= this.times.wc) this.finalizeViews(out);
    if (this.phase === 4 && now >= this.times.end) this.decide(out);
    return out;
  }

  /** One message from party `from` (authenticated by the channel). Never throws on its content. */
  receive(from: number, bytes: Uint8Array, now: number): DkgAction[] {
    const out: DkgAction[] = [];
    if (typeof now !== 'number' || !Number.isFinite(now)) fail(`receive: now must be a finite number, got ${String(now)}`);
    const drop = (r: DropReason): DkgAction[] => {
      this.drops[r]++;
      return out;
    };
    if (this.status !== 'running') return drop('finished');
    if (!this.isParticipant(from)) return drop('unknown-party');
    const decoded = decodeIncoming(bytes, this.limits);
    if (typeof decoded === 'string') return drop(decoded);
    if (decoded.type === 'relay') {
      const r = decoded.relay;
      const m = decodeSigned(r.item, this.limits);
      if (typeof m === 'string') return drop(m);
      // The same bytes again (every member relays each item): no need to check any signature.
      if (this.items.has(hex(m.digest))) return drop('duplicate');
      const bad = this.authenticate(m);
      if (bad !== undefined) return drop(bad);
      if (!ITEM_KINDS.has(m.body.kind)) return drop('invalid');
      const seen = new Set<number>([m.body.from]);
      for (let i = 0; i < r.relayers.length; i++) {
        const who = r.relayers[i]!;
        if (seen.has(who) || !this.isParticipant(who)) return drop('invalid');
        seen.add(who);
        if (!this.verify(who, relayBytes(this.sid, m.digest), r.signatures[i]!)) return drop('bad-signature');
      }
      const why = this.acceptItem(m, r.relayers, r.signatures, now, out);
      return why === undefined ? out : drop(why);
    }
    const m = decoded.message;
    if (ITEM_KINDS.has(m.body.kind) && this.items.has(hex(m.digest))) return drop('duplicate');
    const bad = this.authenticate(m);
    if (bad !== undefined) return drop(bad);
    if (ITEM_KINDS.has(m.body.kind)) {
      const why = this.acceptItem(m, [], [], now, out);
      return why === undefined ? out : drop(why);
    }
    if (m.body.from !== from) return drop('wrong-sender');
    const why = this.acceptDirect(m, now);
    if (why !== undefined) return drop(why);
    this.promise(now, out);
    return out;
  }

  private isParticipant(party: number): boolean {
    return this.dealerByParty.has(party) || this.receiverByParty.has(party);
  }

  private authenticate(m: SignedMessage): DropReason | undefined {
    if (!bytesEqual(m.body.sid, this.sid)) return 'wrong-session';
    if (!this.isParticipant(m.body.from)) return 'unknown-party';
    if (!this.verify(m.body.from, m.signed, m.signature)) return 'bad-signature';
    return undefined;
  }

  /** The injected verifier must not throw; if it does anyway, the message counts as badly signed. */
  private verify(party: number, bytes: Uint8Array, signature: Uint8Array): boolean {
    try {
      return this.c.verifier.verify(party, bytes, signature) === true;
    } catch {
      return false;
    }
  }

  private send(out: DkgAction[], payload: Payload, to?: number): Uint8Array {
    const message = signMessage(this.sid, this.c.self, payload, this.c.signer);
    this.sent++;
    out.push(to === undefined ? { kind: 'broadcast', message } : { kind: 'send', to, message });
    return message;
  }

  /** Posts an item of ours and holds it as accepted, as everyone else will. */
  private post(out: DkgAction[], payload: Payload): void {
    const bytes = this.send(out, payload);
    const m = decodeSigned(bytes, this.limits);
    if (typeof m === 'string') throw new ThresholdError('MALFORMED', `own ${payload.kind} does not decode: ${m}`);
    this.items.add(hex(m.digest));
    this.recordItem(m, out);
  }

  // ---- round 1 and shares -------------------------------------------------------------

  private deal(out: DkgAction[]): void {
    this.phase = 1;
    const me = this.selfDealer;
    if (me === undefined) return;
    const rule = this.c.constant;
    const a0 = rule.kind === 'zero' ? 0n : rule.kind === 'fixed' ? this.c.secret! : (this.c.secret ?? randomPolynomial(1, 0n, this.rng)[1]!);
    this.coefficients = randomPolynomial(this.c.threshold - 1, a0, this.rng);
    const commitments = commitPolynomial(this.coefficients);
    const payload: Payload = {
      kind: 'r1',
      commitments: commitments.map((p) => p.toBytes()),
      ...(rule.kind === 'proof' ? { pok: provePossession(this.sid, me.party, me.index, a0, commitments[0]!, this.rng) } : {}),
    };
    const bytes = this.send(out, payload);
    const m = decodeSigned(bytes, this.limits);
    if (typeof m === 'string') throw new ThresholdError('MALFORMED', `own round-1 package does not decode: ${m}`);
    this.direct.set(me.party, [m]);
    for (const r of this.c.receivers) {
      const share = evalPolynomial(this.coefficients, BigInt(r.index));
      if (r.party === this.c.self) this.shares.set(me.party, share);
      else this.send(out, { kind: 'share', to: r.party, share: scalarToBytes(share) }, r.party);
    }
  }

  // ---- the early finish ----------------------------------------------------------------

  /** Posts our ok once we hold one valid package per dealer and a valid share from each, by start+Δ. */
  private promise(now: number, out: DkgAction[]): void {
    if (this.okDigests !== undefined || this.phase !== 1 || this.status !== 'running' || now > this.times.r1) return;
    const views = new Map<number, readonly EdPoint[]>();
    const digests: Uint8Array[] = [];
    for (const d of this.c.dealers) {
      const held = this.direct.get(d.party);
      if (held?.length !== 1) return;
      views.set(d.party, this.commitmentsOf(held[0]!)!);
      digests.push(held[0]!.digest);
    }
    const me = this.selfReceiver;
    if (me !== undefined) {
      const others: number[] = [];
      for (const d of this.c.dealers) {
        if (d.party === this.c.self) continue;
        const s = this.shares.get(d.party);
        if (s === undefined || s === null) return;
        others.push(d.party);
      }
      if (others.length > 0 && !this.batchValid(others, BigInt(me.index), views)) return;
    }
    this.okDigests = digests.map(hex).join('');
    this.post(out, { kind: 'ok', digests });
    this.finishIfCertified(out);
  }

  /** See the header: our ok, and from every other participant an ok with the same digests or two different ones. */
  private certified(): boolean {
    const mine = this.okDigests;
    if (mine === undefined) return false;
    for (const p of this.participants) {
      if (p === this.c.self) continue;
      const held = this.oks.get(p);
      if (held === undefined || (!held.has(mine) && held.size < 2)) return false;
    }
    return true;
  }

  private finishIfCertified(out: DkgAction[]): void {
    if (this.status !== 'running' || this.phase >= 5 || !this.certified()) return;
    this.phase = 5;
    this.fast = true;
    // The packages we promised on: one per dealer, the first we held (we held exactly one then).
    const views = new Map<number, readonly EdPoint[]>();
    for (const d of this.c.dealers) views.set(d.party, this.commitmentsOf(this.direct.get(d.party)![0]!)!);
    this.conclude(out, views, new Map(), [], (party) => this.shares.get(party) ?? undefined);
  }

  /** The dealer's commitments if its signed package is valid, else null. Cached by digest. */
  private commitmentsOf(m: SignedMessage): readonly EdPoint[] | null {
    // The key names everything the answer depends on besides the package: session, threshold, rule.
    return this.cache.memo(`r1:${hex(this.sid)}:${this.c.threshold}:${this.c.constant.kind}:${hex(m.digest)}`, () => {
      const b = m.body;
      if (b.kind !== 'r1') return null;
      const dealer = this.dealerByParty.get(b.from);
      if (dealer === undefined || b.commitments.length !== this.c.threshold) return null;
      const rule = this.c.constant;
      const points: EdPoint[] = [];
      for (let k = 0; k < b.commitments.length; k++) {
        // Subgroup membership is checked once, on the combined commitments (decide).
        const p = this.point(b.commitments[k]!, k === 0 && rule.kind === 'zero');
        if (p === null) return null;
        points.push(p);
      }
      const c0 = points[0]!;
      if (rule.kind === 'zero') {
        if (!c0.is0() || b.pok !== undefined) return null;
      } else if (rule.kind === 'fixed') {
        if (!c0.equals(rule.expected.get(b.from)!) || b.pok !== undefined) return null;
      } else if (b.pok === undefined || !verifyPossession(this.sid, dealer.party, dealer.index, c0, b.pok)) {
        return null;
      }
      return points;
    });
  }

  private point(bytes: Uint8Array, allowIdentity: boolean): EdPoint | null {
    return this.cache.memo(`pt:${allowIdentity ? 1 : 0}:${hex(bytes)}`, () => {
      try {
        return pointFromBytes(bytes, allowIdentity, false);
      } catch {
        return null;
      }
    });
  }

  private acceptDirect(m: SignedMessage, now: number): DropReason | undefined {
    const b = m.body;
    switch (b.kind) {
      case 'r1': {
        if (now > this.times.r1) return 'late';
        if (!this.dealerByParty.has(b.from)) return 'invalid';
        const held = this.direct.get(b.from) ?? [];
        if (held.some((x) => bytesEqual(x.digest, m.digest))) return 'duplicate';
        if (held.length >= 2) return 'duplicate'; // two are proof enough
        if (this.commitmentsOf(m) === null) return 'invalid';
        this.direct.set(b.from, [...held, m]);
        return undefined;
      }
      case 'share': {
        if (now > this.times.echo) return 'late';
        if (b.to !== this.c.self || this.selfReceiver === undefined || !this.dealerByParty.has(b.from)) return 'invalid';
        if (this.shares.has(b.from)) return 'duplicate';
        let s: bigint | null = null;
        try {
          s = scalarFromBytes(b.share);
        } catch {
          s = null; // kept as bad: it leads to a complaint
        }
        this.shares.set(b.from, s);
        return undefined;
      }
      case 'echo': {
        if (now > this.times.echo) return 'late';
        if (b.digests.length !== this.c.dealers.length) return 'invalid';
        if (this.echoes.has(b.from)) return 'duplicate';
        this.echoes.set(b.from, b.digests);
        return undefined;
      }
      default:
        return 'invalid';
    }
  }

  // ---- echo and evidence -----------------------------------------------------------------

  private echo(out: DkgAction[]): void {
    this.phase = 2;
    const digests = this.c.dealers.map((d) => this.direct.get(d.party)?.[0]?.digest ?? new Uint8Array(0));
    this.send(out, { kind: 'echo', digests });
  }

  private postEvidence(out: DkgAction[]): void {
    this.phase = 3;
    this.c.dealers.forEach((d, k) => {
      const held = this.direct.get(d.party) ?? [];
      if (held.length === 0) return;
      const mine = held[0]!.digest;
      let disputed = held.length > 1;
      for (const digests of this.echoes.values()) if (!bytesEqual(digests[k]!, mine)) disputed = true;
      if (!disputed) return;
      for (const m of held) this.post(out, { kind: 'evidence', pkg: m.bytes });
    });
  }

  private windowOf(kind: string): number {
    if (kind === 'ok') return this.times.r1;
    return kind === 'evidence' ? this.times.we : kind === 'complaint' ? this.times.wc : this.times.wa;
  }

  private acceptItem(m: SignedMessage, relayers: readonly number[], sigs: readonly Uint8Array[], now: number, out: DkgAction[]): DropReason | undefined {
    const key = hex(m.digest);
    if (this.items.has(key)) return 'duplicate';
    const chain = 1 + relayers.length;
    if (chain > this.levels || now > this.windowOf(m.body.kind) + chain * this.c.delta) return 'late';
    const why = this.checkItem(m.body);
    if (why !== undefined) return why;
    this.items.add(key);
    this.recordItem(m, out);
    // Relay once, adding our signature, while a longer chain can still be accepted in time.
    if (chain < this.levels && m.body.from !== this.c.self && !relayers.includes(this.c.self)) {
      const sig = this.c.signer.sign(relayBytes(this.sid, m.digest));
      this.relayed++;
      out.push({ kind: 'broadcast', message: encodeRelay({ item: m.bytes, relayers: [...relayers, this.c.self], signatures: [...sigs, sig] }) });
    }
    if (m.body.kind === 'ok') this.finishIfCertified(out);
    return undefined;
  }

  private checkItem(b: Body): DropReason | undefined {
    switch (b.kind) {
      case 'evidence': {
        const p = decodeSigned(b.pkg, this.limits);
        if (typeof p === 'string' || p.body.kind !== 'r1' || this.authenticate(p) !== undefined) return 'invalid';
        if (this.commitmentsOf(p) === null) return 'invalid';
        const held = this.evidence.get(p.body.from) ?? [];
        if (held.some((x) => bytesEqual(x.digest, p.digest))) return 'duplicate';
        if (held.length >= 2) return 'duplicate';
        return undefined;
      }
      case 'complaint':
        if (!this.receiverByParty.has(b.from) || !this.dealerByParty.has(b.against) || b.against === b.from) return 'invalid';
        if (this.complaints.get(b.against)?.has(b.from)) return 'duplicate';
        return undefined;
      case 'answer': {
        if (!this.dealerByParty.has(b.from) || !this.receiverByParty.has(b.to) || b.to === b.from) return 'invalid';
        if ((this.answers.get(`${b.from}:${b.to}`)?.length ?? 0) >= 2) return 'duplicate';
        try {
          scalarFromBytes(b.share);
        } catch {
          return 'invalid';
        }
        return undefined;
      }
      case 'ok':
        if (b.digests.length !== this.c.dealers.length) return 'invalid';
        // Two different oks already settle this party for certification; more would only be traffic.
        if ((this.oks.get(b.from)?.size ?? 0) >= 2) return 'duplicate';
        return undefined;
      default:
        return 'invalid';
    }
  }

  private recordItem(m: SignedMessage, out: DkgAction[]): void {
    const b = m.body;
    if (b.kind === 'evidence') {
      const p = decodeSigned(b.pkg, this.limits) as SignedMessage;
      const held = this.evidence.get(p.body.from) ?? [];
      if (!held.some((x) => bytesEqual(x.digest, p.digest))) this.evidence.set(p.body.from, [...held, p]);
    } else if (b.kind === 'complaint') {
      const set = this.complaints.get(b.against) ?? new Set<number>();
      set.add(b.from);
      this.complaints.set(b.against, set);
      // The accused answers publicly at once with the share it sent (GJKR step 1.c).
      if (b.against === this.c.self && this.coefficients !== undefined && !this.answered.has(b.from)) {
        const to = this.receiverByParty.get(b.from)!;
        this.answered.add(b.from);
        this.post(out, { kind: 'answer', to: to.party, share: scalarToBytes(evalPolynomial(this.coefficients, BigInt(to.index))) });
      }
    } else if (b.kind === 'answer') {
      const key = `${b.from}:${b.to}`;
      this.answers.set(key, [...(this.answers.get(key) ?? []), { share: scalarFromBytes(b.share) }]);
    } else if (b.kind === 'ok') {
      const set = this.oks.get(b.from) ?? new Set<string>();
      set.add(b.digests.map(hex).join(''));
      this.oks.set(b.from, set);
    }
  }

  // ---- views, complaints, verdict ----------------------------------------------------

  /** Distinct valid round-1 packages known for a dealer, direct or posted as evidence. */
  private packagesOf(party: number): SignedMessage[] {
    const all: SignedMessage[] = [];
    for (const m of [...(this.direct.get(party) ?? []), ...(this.evidence.get(party) ?? [])]) {
      if (!all.some((x) => bytesEqual(x.digest, m.digest))) all.push(m);
    }
    return all;
  }

  private finalizeViews(out: DkgAction[]): void {
    this.phase = 4;
    const views = new Map<number, readonly EdPoint[]>();
    for (const d of this.c.dealers) {
      const pk = this.packagesOf(d.party);
      if (pk.length === 1) views.set(d.party, this.commitmentsOf(pk[0]!)!);
    }
    this.views = views;
    const me = this.selfReceiver;
    if (me === undefined) return;
    const x = BigInt(me.index);
    // One batched Feldman check for all dealers (Σ s_i·G = Σ_k (Σ_i C_i,k)·x^k); one by one only on failure.
    const good: number[] = [];
    const suspects: number[] = [];
    for (const party of views.keys()) {
      if (party === this.c.self) continue;
      const s = this.shares.get(party);
      if (s === undefined || s === null) suspects.push(party);
      else good.push(party);
    }
    if (good.length > 0 && !this.batchValid(good, x, views)) {
      for (const party of good.splice(0)) {
        if (this.shareValid(views.get(party)!, x, this.shares.get(party)!)) good.push(party);
        else suspects.push(party);
      }
    }
    for (const against of suspects.sort((a, b) => a - b)) this.post(out, { kind: 'complaint', against });
  }

  private batchValid(parties: readonly number[], x: bigint, views: ReadonlyMap<number, readonly EdPoint[]>): boolean {
    let sum = 0n;
    let combined: EdPoint[] | undefined;
    for (const p of parties) {
      sum = (sum + this.shares.get(p)!) % Fn.ORDER;
      const c = views.get(p)!;
      combined = combined === undefined ? [...c] : combined.map((q, k) => q.add(c[k]!));
    }
    const lhs = sum === 0n ? Point.ZERO : Point.BASE.multiply(sum);
    return lhs.equals(evalCommitment(combined!, x));
  }

  private shareValid(commitments: readonly EdPoint[], x: bigint, share: bigint): boolean {
    const lhs = share === 0n ? Point.ZERO : Point.BASE.multiply(share);
    return lhs.equals(evalCommitment(commitments, x));
  }

  private merge(dealers: readonly Participant[], views: ReadonlyMap<number, readonly EdPoint[]>): { merged: EdPoint[]; weights: bigint[] } {
    const weights = this.c.weights ? this.c.weights(dealers) : dealers.map(() => 1n);
    const vectors = dealers.map((d) => views.get(d.party)!);
    return { merged: combineCommitments(vectors, this.c.weights ? weights : undefined), weights };
  }

  private inSubgroup(p: EdPoint): boolean {
    return this.cache.memo(`sub:${hex(p.toBytes())}`, () => p.isTorsionFree());
  }

  private decide(out: DkgAction[]): void {
    // Certified members all decide the same way, early or now (see the header).
    if (this.certified()) {
      this.phase = 4;
      return this.finishIfCertified(out);
    }
    this.phase = 5;
    const views = this.views!;
    const { disqualified: dq, equivocations } = judge({
      dealers: this.c.dealers,
      receivers: this.c.receivers,
      packages: (dealer) => this.packagesOf(dealer).map((m) => m.bytes),
      complainers: (dealer) => this.complaints.get(dealer),
      answers: (dealer, to) => {
        const list = this.answers.get(`${dealer}:${to.party}`) ?? [];
        if (list.length === 0) return 'none';
        return list.every((a) => this.shareValid(views.get(dealer)!, BigInt(to.index), a.share)) ? 'valid' : 'bad';
      },
    });
    this.conclude(out, views, dq, equivocations, (party) => {
      // A complaint we made and saw answered validly gives us the share in public.
      const share = this.complaints.get(party)?.has(this.c.self) ? this.answers.get(`${party}:${this.c.self}`)?.[0]?.share : this.shares.get(party);
      return share ?? undefined;
    });
  }

  /** From a verdict (who is out) to the outcome: the subgroup check, enough qualified dealers, our shares, combine. */
  private conclude(
    out: DkgAction[],
    views: ReadonlyMap<number, readonly EdPoint[]>,
    dq: Map<number, Disqualification['reason']>,
    equivocations: readonly EquivocationProof[],
    shareFrom: (party: number) => bigint | undefined,
  ): void {
    // Commitments with a small-order part can cancel in every receiver's Feldman check yet
    // spoil the combined public package: find their dealers only when the combination fails.
    let qualified = this.c.dealers.filter((d) => !dq.has(d.party)).sort((a, b) => a.party - b.party);
    let merged: EdPoint[] = [];
    let weights: bigint[] = [];
    if (qualified.length >= this.c.minQualified) {
      ({ merged, weights } = this.merge(qualified, views));
      if (!merged.every((p) => this.inSubgroup(p))) {
        for (const d of qualified) if (!views.get(d.party)!.every((p) => this.inSubgroup(p))) dq.set(d.party, 'bad-commitment');
        qualified = qualified.filter((d) => !dq.has(d.party));
        if (qualified.length >= this.c.minQualified) ({ merged, weights } = this.merge(qualified, views));
      }
    }
    const disqualified: Disqualification[] = [...dq].map(([party, reason]) => ({ party, reason })).sort((a, b) => a.party - b.party);
    const culprits = disqualified.map((d) => d.party);
    const abort = (reason: string, who: readonly number[] = culprits): void => {
      this.status = 'aborted';
      this.coefficients = undefined;
      out.push({ kind: 'abort', culprits: [...who], reason, disqualified, equivocations });
    };
    if (this.c.onEquivocation === 'abort' && equivocations.length > 0) {
      return abort('equivocation in round 1', equivocations.map((e) => e.party).sort((a, b) => a - b));
    }
    if (qualified.length < this.c.minQualified) return abort(`only ${qualified.length} dealers qualified, ${this.c.minQualified} needed`);
    if (dq.has(this.c.self)) return abort('this member was disqualified');
    const shares = new Map<number, bigint>();
    if (this.selfReceiver !== undefined) {
      for (const d of qualified) {
        const share = shareFrom(d.party);
        if (share === undefined) return abort(`no valid share from dealer ${d.party}`, [d.party]);
        shares.set(d.party, share);
      }
    }
    const commitments = new Map<number, readonly EdPoint[]>();
    for (const d of qualified) commitments.set(d.party, views.get(d.party)!);
    let result: DkgDone | DkgAbort;
    try {
      result = this.c.combine({ dealers: qualified, commitments, merged, weights, shares, disqualified, equivocations });
    } catch (err) {
      // Only reachable if the combined sharing is degenerate (an identity commitment).
      return abort(`combining the qualified sharings failed: ${err instanceof Error ? err.message : String(err)}`, []);
    }
    this.coefficients = undefined;
    this.status = result.kind === 'done' ? 'done' : 'aborted';
    out.push(result);
  }
}
