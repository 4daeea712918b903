import { MinHeap, simRandom } from '../simkit/index.js';
import { createHmac } from 'node:crypto';
import { ed25519 } from '@noble/curves/ed25519.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { ThresholdError } from './errors.js';
import { decodeIncoming, decodeSigned, hex, signMessage, type Payload } from './dkg-messages.js';
import type { DealingSession } from './dkg-session.js';
import { DROP_REASONS, type DkgAbort, type DkgAction, type DkgDone, type DkgSigner, type DkgVerifier } from './dkg-types.js';
import { Point, scalarFromWide, scalarToBytes } from './vss.js';

/**
 * Deterministic simulation of a dealing session (DKG, refresh or resharing): every party
 * runs the real core; a seeded scheduler delivers each message after a seeded delay in
 * [1, Δ−1] virtual ms (so honest messages always beat the next deadline, the model the
 * core assumes), ties broken by a seeded order. Byzantine parties run the honest core too,
 * but their outgoing traffic goes through their behaviours, which drop, corrupt, split,
 * delay or replay it. Same seed, same run.
 */

/** Byzantine behaviours; a party may combine several (a coalition can mix them freely). */
export type Behaviour =
  /** Sends nothing at all. */
  | { readonly kind: 'silent' }
  /** Sends wrong shares to these parties (and answers their complaints honestly unless 'bad-answers'). */
  | { readonly kind: 'bad-shares'; readonly victims: readonly number[] }
  /** Sends no share to these parties. */
  | { readonly kind: 'withhold-shares'; readonly victims: readonly number[] }
  /** Sends a second, differently drawn round-1 package (validly signed) to these parties. */
  | { readonly kind: 'equivocate'; readonly split: readonly number[] }
  /** Waits for the honest round-1 packages, then sends its own at the last moment (some arrive late) with a rogue C_0. */
  | { readonly kind: 'rushing'; readonly rogue: boolean }
  /** Answers complaints with a wrong share. */
  | { readonly kind: 'bad-answers' }
  /** Never answers complaints. */
  | { readonly kind: 'no-answers' }
  /** Complains against honest members that dealt correctly. */
  | { readonly kind: 'false-complaints'; readonly against: readonly number[] }
  /** Echoes random digests, so honest members see disputes everywhere. */
  | { readonly kind: 'lying-echo' }
  /** Posts its items (evidence, complaints, its early-finish promise) to one party only, at the last moment, and relays nothing. */
  | { readonly kind: 'selective-items'; readonly to: number }
  /** Never promises (no `ok`): the early finish cannot happen, everyone runs the schedule. */
  | { readonly kind: 'no-ok' }
  /** Promises twice: its real ok to some parties, one with made-up digests to these. */
  | { readonly kind: 'double-ok'; readonly split: readonly number[] }
  /** Replays its own old messages (another session, earlier rounds) and duplicates. */
  | { readonly kind: 'replay'; readonly old: readonly Uint8Array[] }
  /** Sends oversized and malformed packages. */
  | { readonly kind: 'oversized' }
  /**
   * Adds the point of order 2 to C_1 and C_2: every Feldman check still passes (j² + j is
   * even) but the combined public package would leave the prime-order subgroup.
   */
  | { readonly kind: 'torsion' };

/** (0, −1): the Ed25519 point of order 2. */
const ORDER_TWO = Point.fromHex('ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f');

export interface SimParty {
  readonly party: number;
  readonly session: DealingSession;
  /** A second core with other randomness, for equivocation. */
  readonly shadow?: DealingSession;
  readonly signer: DkgSigner;
  readonly behaviours?: readonly Behaviour[];
}

export interface SimConfig {
  readonly seed: number;
  readonly sessionId: Uint8Array;
  readonly parties: readonly SimParty[];
  /** Must equal the cores' delta. */
  readonly delta: number;
  readonly start: number;
  /** Give up after this virtual time (a bug guard). */
  readonly until?: number;
}

export interface SimResult {
  readonly outcomes: ReadonlyMap<number, DkgDone | DkgAbort | undefined>;
  readonly delivered: number;
  readonly dropped: Readonly<Record<string, number>>;
  readonly endTime: number;
}

export { simRandom } from '../simkit/index.js';

/** A seeded byte source for the cores (sha256 in counter mode over the seed). */
export function seededBytes(seed: number, label: string): (n: number) => Uint8Array {
  let counter = 0;
  const key = new TextEncoder().encode(`${label}:${seed}`);
  return (n: number) => {
    const out = new Uint8Array(n);
    for (let at = 0; at < n; at += 32) {
      const block = sha256(new Uint8Array([...key, ...new TextEncoder().encode(`:${counter++}`)]));
      out.set(block.subarray(0, Math.min(32, n - at)), at);
    }
    return out;
  };
}

export interface SignatureScheme {
  signer(party: number): DkgSigner;
  readonly verifier: DkgVerifier;
}

/**
 * HMAC-SHA256 under per-party keys: a stand-in signature for bulk simulation (the verifier
 * knows every key, which only a simulation may). Unforgeable by the byzantine code, which
 * only ever uses its own signer.
 */
export function hmacSignatures(seed: number): SignatureScheme {
  const key = (p: number): Buffer => Buffer.from(sha256(new TextEncoder().encode(`sim-key:${seed}:${p}`)));
  const mac = (p: number, bytes: Uint8Array): Uint8Array => new Uint8Array(createHmac('sha256', key(p)).update(bytes).digest());
  return {
    signer: (p) => ({ sign: (bytes) => mac(p, bytes) }),
    verifier: {
      verify: (p, bytes, sig) => {
        const want = mac(p, bytes);
        return sig.length === want.length && want.every((b, i) => b === sig[i]);
      },
    },
  };
}

/** Real Ed25519 identity keys (seeded), with verification results memoized per (party, bytes, sig). */
export function ed25519Signatures(seed: number): SignatureScheme {
  const secrets = new Map<number, Uint8Array>();
  const publics = new Map<number, Uint8Array>();
  const keyOf = (p: number): Uint8Array => {
    let sk = secrets.get(p);
    if (sk === undefined) {
      sk = sha256(new TextEncoder().encode(`sim-ed25519:${seed}:${p}`));
      secrets.set(p, sk);
      publics.set(p, ed25519.getPublicKey(sk));
    }
    return sk;
  };
  const memo = new Map<string, boolean>();
  return {
    signer: (p) => {
      const sk = keyOf(p);
      return { sign: (bytes) => ed25519.sign(bytes, sk) };
    },
    verifier: {
      verify: (p, bytes, sig) => {
        keyOf(p);
        const k = `${p}:${hex(sha256(bytes))}:${hex(sig)}`;
        let ok = memo.get(k);
        if (ok === undefined) {
          try {
            ok = sig.length === 64 && ed25519.verify(sig, bytes, publics.get(p)!);
          } catch {
            ok = false;
          }
          memo.set(k, ok);
        }
        return ok;
      },
    },
  };
}

interface Event {
  readonly at: number;
  readonly order: number;
  readonly kind: 'deliver' | 'tick';
  readonly to: number;
  readonly from?: number;
  readonly bytes?: Uint8Array;
}


export function simulate(config: SimConfig): SimResult {
  if (typeof config !== 'object' || config === null || !Array.isArray(config.parties) || config.parties.length < 2) {
    throw new ThresholdError('BAD_ARGUMENT', 'simulation needs at least two parties');
  }
  const rnd = simRandom(config.seed);
  const { delta, start } = config;
  const until = config.until ?? start + 1000 * delta;
  // Earliest first; at one instant deliveries before ticks, then the seeded order.
  const queue = new MinHeap<Event>((a, b) => (a.at !== b.at ? a.at < b.at : a.kind !== b.kind ? a.kind === 'deliver' : a.order < b.order));
  const byParty = new Map(config.parties.map((p) => [p.party, p]));
  const all = config.parties.map((p) => p.party);
  const outcomes = new Map<number, DkgDone | DkgAbort | undefined>(all.map((p) => [p, undefined]));
  const dropped: Record<string, number> = {};
  let delivered = 0;
  let order = 0;
  let now = start;
  const shadowR1 = new Map<number, Uint8Array>();
  /** Honest round-1 packages seen so far (a rushing party waits for them). */
  const honestR1 = new Map<number, Uint8Array>();
  const honest = config.parties.filter((p) => (p.behaviours ?? []).length === 0).map((p) => p.party);

  const deliver = (from: number, to: number, bytes: Uint8Array, at: number): void => {
    queue.push({ at, order: order++ + rnd.next(), kind: 'deliver', to, from, bytes });
  };
  const post = (from: number, to: number, bytes: Uint8Array, sendAt = now): void => {
    deliver(from, to, bytes, sendAt + rnd.int(1, delta - 1));
  };
  const scheduleTick = (p: SimParty): void => {
    const d = p.session.nextDeadline();
    if (d !== undefined) queue.push({ at: Math.max(d, now), order: order++, kind: 'tick', to: p.party });
  };

  const has = <K extends Behaviour['kind']>(p: SimParty, kind: K): Extract<Behaviour, { kind: K }> | undefined =>
    (p.behaviours ?? []).find((b) => b.kind === kind) as Extract<Behaviour, { kind: K }> | undefined;

  const resign = (p: SimParty, bytes: Uint8Array, change: (payload: Payload) => Payload): Uint8Array => {
    const m = decodeSigned(bytes, { maxBytes: 1 << 20, maxItems: 100_000 });
    if (typeof m === 'string') return bytes;
    const { sid, round, from, ...payload } = m.body;
    void round;
    void from;
    return signMessage(sid, p.party, change(payload as Payload), p.signer);
  };

  const kindOf = (bytes: Uint8Array): { kind: string; relay: boolean } => {
    const d = decodeIncoming(bytes, { maxBytes: 1 << 20, maxItems: 100_000 });
    if (typeof d === 'string') return { kind: 'garbage', relay: false };
    if (d.type === 'relay') return { kind: 'relay', relay: true };
    return { kind: d.message.body.kind, relay: false };
  };

  /** Applies a party's behaviours to one outgoing action and sends what remains. */
  const emit = (p: SimParty, a: DkgAction): void => {
    if (a.kind === 'done' || a.kind === 'abort') {
      outcomes.set(p.party, a);
      return;
    }
    const targets = a.kind === 'broadcast' ? all.filter((q) => q !== p.party) : [a.to];
    const behaviours = p.behaviours ?? [];
    if (behaviours.length === 0) {
      const { kind } = a.kind === 'broadcast' ? kindOf(a.message) : { kind: 'share' };
      if (kind === 'r1') honestR1.set(p.party, a.message);
      for (const q of targets) post(p.party, q, a.message);
      return;
    }
    if (has(p, 'silent')) return;
    const { kind, relay } = kindOf(a.message);
    const sel = has(p, 'selective-items');
    if (relay && sel) return;
    for (const q of targets) {
      let bytes = a.message;
      let sendAt = now;
      if (kind === 'share') {
        if (has(p, 'withhold-shares')?.victims.includes(q)) continue;
        if (has(p, 'bad-shares')?.victims.includes(q)) {
          bytes = resign(p, bytes, (pl) => ({ ...pl, share: scalarToBytes(scalarFromWide(rnd.bytes(64))) }) as Payload);
        }
      }
      if (kind === 'r1') {
        const eq = has(p, 'equivocate');
        if (eq?.split.includes(q)) bytes = shadowR1.get(p.party) ?? bytes;
        if (has(p, 'torsion')) bytes = withTorsion(p, bytes);
        const rush = has(p, 'rushing');
        if (rush) {
          // Sent half a round late, after seeing every honest package: some copies miss the deadline.
          sendAt = start + Math.floor(delta / 2);
          if (rush.rogue) bytes = rogue(p, bytes);
        }
      }
      if (kind === 'answer') {
        if (has(p, 'no-answers')) continue;
        if (has(p, 'bad-answers')) bytes = resign(p, bytes, (pl) => ({ ...pl, share: scalarToBytes(scalarFromWide(rnd.bytes(64))) }) as Payload);
      }
      if (kind === 'echo' && has(p, 'lying-echo')) {
        bytes = resign(p, bytes, (pl) => ({ ...pl, digests: (pl as unknown as { digests: Uint8Array[] }).digests.map(() => rnd.bytes(32)) }) as Payload);
      }
      if (kind === 'ok') {
        if (has(p, 'no-ok')) continue;
        if (has(p, 'double-ok')?.split.includes(q)) {
          bytes = resign(p, bytes, (pl) => ({ ...pl, digests: (pl as unknown as { digests: Uint8Array[] }).digests.map(() => rnd.bytes(32)) }) as Payload);
        }
      }
      if ((kind === 'evidence' || kind === 'complaint' || kind === 'ok') && sel) {
        if (q !== sel.to) continue;
        // Delivered at the last moment its (single-signature) chain is still accepted.
        deliver(p.party, q, bytes, Math.max(now + 1, windowEnd(kind)));
        continue;
      }
      if (sendAt > now) deliver(p.party, q, bytes, sendAt + rnd.int(1, delta - 1));
      else post(p.party, q, bytes);
    }
    const rep = has(p, 'replay');
    if (rep && kind !== 'garbage') {
      for (const q of targets) {
        post(p.party, q, a.message); // duplicate
        const old = rep.old[rnd.int(0, Math.max(0, rep.old.length - 1))];
        if (old !== undefined) post(p.party, q, old); // another session's package
        if (kind === 'r1') post(p.party, q, a.message, now + 3 * delta); // same package, later round
      }
    }
    if (has(p, 'oversized') && kind === 'r1') {
      for (const q of targets) {
        post(p.party, q, new Uint8Array(70_000).fill(0xa5));
        post(p.party, q, rnd.bytes(200));
      }
    }
  };

  // Relays and direct items of the first chain link are accepted until W + Δ.
  const windowEnd = (kind: string): number => {
    const s = config.parties[0]!.session.schedule;
    return (kind === 'ok' ? s.r1 : kind === 'evidence' ? s.evidence : s.complaints) + delta - 1;
  };
  const complained = new Set<number>();

  const withTorsion = (p: SimParty, bytes: Uint8Array): Uint8Array =>
    resign(p, bytes, (pl) => {
      const r1 = pl as { kind: 'r1'; commitments: Uint8Array[]; pok?: Uint8Array };
      if (r1.commitments.length < 3) return r1;
      const shift = (c: Uint8Array): Uint8Array => Point.fromBytes(c).add(ORDER_TWO).toBytes();
      return { ...r1, commitments: [r1.commitments[0]!, shift(r1.commitments[1]!), shift(r1.commitments[2]!), ...r1.commitments.slice(3)] };
    });

  /** A round-1 package whose C_0 cancels the honest ones (the rogue-key attack); its old proof no longer fits. */
  const rogue = (p: SimParty, bytes: Uint8Array): Uint8Array => {
    let sum = Point.ZERO;
    for (const m of honestR1.values()) {
      const d = decodeSigned(m, { maxBytes: 1 << 20, maxItems: 100_000 });
      if (typeof d !== 'string' && d.body.kind === 'r1') sum = sum.add(Point.fromBytes(d.body.commitments[0]!));
    }
    const target = Point.BASE.multiply(7n).subtract(sum);
    if (target.is0()) return bytes;
    return resign(p, bytes, (pl) => {
      const r1 = pl as { kind: 'r1'; commitments: Uint8Array[]; pok?: Uint8Array };
      return { ...r1, commitments: [target.toBytes(), ...r1.commitments.slice(1)] };
    });
  };

  // Honest parties tick first at each instant, so a rushing party has seen their packages.
  const ordered = [...config.parties].sort((a, b) => (a.behaviours?.length ?? 0) - (b.behaviours?.length ?? 0));
  for (const p of ordered) {
    if (p.shadow && has(p, 'equivocate')) {
      for (const a of p.shadow.tick(start)) {
        if (a.kind === 'broadcast') {
          const k = kindOf(a.message).kind;
          if (k === 'r1') shadowR1.set(p.party, a.message);
        }
      }
    }
    queue.push({ at: start, order: order++, kind: 'tick', to: p.party });
  }

  while (queue.size > 0) {
    const e = queue.pop()!;
    if (e.at > until) break;
    now = e.at;
    const p = byParty.get(e.to);
    if (p === undefined) continue;
    let actions: DkgAction[];
    if (e.kind === 'deliver') {
      delivered++;
      const before = p.session.stats.dropped;
      actions = p.session.receive(e.from!, e.bytes!, now);
      const after = p.session.stats.dropped;
      for (const k of DROP_REASONS) if (after[k] !== before[k]) dropped[k] = (dropped[k] ?? 0) + after[k] - before[k];
    } else {
      actions = p.session.tick(now);
      scheduleTick(p);
      const fc = has(p, 'false-complaints');
      if (fc && !complained.has(p.party) && now >= p.session.schedule.complaints) {
        complained.add(p.party);
        for (const against of fc.against) {
          actions.push({ kind: 'broadcast', message: signMessage(config.sessionId, p.party, { kind: 'complaint', against }, p.signer) });
        }
      }
    }
    for (const a of actions) emit(p, a);
    if (honest.every((h) => outcomes.get(h) !== undefined)) break;
  }
  return { outcomes, delivered, dropped, endTime: now };
}

/** Old messages a replaying party can send: a validly signed package of another session. */
export function foreignPackage(party: number, signer: DkgSigner, t: number, seed: number): Uint8Array {
  const rng = simRandom(seed);
  const commitments = Array.from({ length: t }, () => Point.BASE.multiply(scalarFromWide(rng.bytes(64)) || 1n).toBytes());
  return signMessage(rng.bytes(16), party, { kind: 'r1', commitments, pok: rng.bytes(64) }, signer);
}
