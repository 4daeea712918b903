/** Shared by the dealing tests: run a seeded session, check outcomes, sign with noble and verify with OpenSSL. */
import { createPublicKey, verify as nodeVerify } from 'node:crypto';
import { ed25519_FROST } from '@noble/curves/ed25519.js';
import type { FrostPublic, FrostSecret } from '@noble/curves/abstract/frost.js';
import {
  DealingCache,
  DkgMember,
  hmacSignatures,
  seededBytes,
  simulate,
  type Behaviour,
  type DealingSession,
  type DkgAbort,
  type DkgDone,
  type SignatureScheme,
  type SimParty,
  type SimResult,
} from '../../src/threshold/index.js';

export const DELTA = 100;

export function sessionId(seed: number, label = 'dkg'): Uint8Array {
  const out = new Uint8Array(16);
  const s = new TextEncoder().encode(`${label}:${seed}`);
  out.set(s.subarray(0, 16));
  out[15] = seed & 0xff;
  out[14] = (seed >>> 8) & 0xff;
  return out;
}

export interface RunOptions {
  readonly n: number;
  readonly t: number;
  readonly seed: number;
  readonly behaviours?: ReadonlyMap<number, readonly Behaviour[]>;
  readonly sigs?: SignatureScheme;
  readonly cache?: DealingCache;
  readonly onEquivocation?: 'disqualify' | 'abort';
}

/** A DKG among members 1..n in the simulator. */
export function runDkg(o: RunOptions): SimResult {
  const sigs = o.sigs ?? hmacSignatures(o.seed);
  const cache = o.cache ?? new DealingCache();
  const sid = sessionId(o.seed);
  const parties: SimParty[] = [];
  for (let party = 1; party <= o.n; party++) {
    const signer = sigs.signer(party);
    const behaviours = o.behaviours?.get(party) ?? [];
    const make = (label: string): DealingSession =>
      new DkgMember({
        sessionId: sid,
        self: party,
        n: o.n,
        threshold: o.t,
        start: 0,
        delta: DELTA,
        signer,
        verifier: sigs.verifier,
        rng: seededBytes(o.seed * 1000 + party, label),
        cache,
        ...(o.onEquivocation ? { onEquivocation: o.onEquivocation } : {}),
      });
    parties.push({ party, session: make('main'), signer, behaviours, ...(behaviours.some((b) => b.kind === 'equivocate') ? { shadow: make('shadow') } : {}) });
  }
  return simulate({ seed: o.seed, sessionId: sid, parties, delta: DELTA, start: 0 });
}

export function dones(r: SimResult, parties: readonly number[]): DkgDone[] {
  return parties.map((p) => {
    const o = r.outcomes.get(p);
    if (o?.kind !== 'done') throw new Error(`party ${p} did not finish: ${o === undefined ? 'no outcome' : `${o.kind} ${o.reason} [${o.culprits.join(',')}]`}`);
    return o;
  });
}

export function hexOf(b: Uint8Array): string {
  return Buffer.from(b).toString('hex');
}

/** FROST-sign a message with the given members' keys (noble), aggregate, and check it with OpenSSL. */
export function signAndVerify(pub: FrostPublic, secrets: readonly FrostSecret[], msg: Uint8Array): boolean {
  const commits = secrets.map((s) => ed25519_FROST.commit(s));
  const list = commits.map((c) => c.commitments);
  const shares: Record<string, Uint8Array> = {};
  secrets.forEach((s, i) => {
    shares[s.identifier] = ed25519_FROST.signShare(s, pub, commits[i]!.nonces, list, msg);
  });
  const sig = ed25519_FROST.aggregate(pub, list, msg, shares);
  const key = createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x: Buffer.from(pub.commitments[0]!).toString('base64url') }, format: 'jwk' });
  return nodeVerify(null, msg, key, sig);
}

export type Outcome = DkgDone | DkgAbort | undefined;

import { RefreshMember, ReshareMember, type Participant } from '../../src/threshold/index.js';

export interface RefreshOptions {
  readonly pub: FrostPublic;
  readonly secrets: ReadonlyMap<number, FrostSecret>;
  readonly seed: number;
  readonly behaviours?: ReadonlyMap<number, readonly Behaviour[]>;
  readonly cache?: DealingCache;
}

/** A refresh among the holders of `secrets` (party = index). */
export function runRefresh(o: RefreshOptions): SimResult {
  const sigs = hmacSignatures(o.seed);
  const cache = o.cache ?? new DealingCache();
  const sid = sessionId(o.seed, 'refresh');
  const parties: SimParty[] = [];
  for (const [party, share] of o.secrets) {
    const signer = sigs.signer(party);
    const behaviours = o.behaviours?.get(party) ?? [];
    const make = (label: string): DealingSession =>
      new RefreshMember({ sessionId: sid, public: o.pub, share, start: 0, delta: DELTA, signer, verifier: sigs.verifier, rng: seededBytes(o.seed * 1000 + party, label), cache });
    parties.push({ party, session: make('main'), signer, behaviours, ...(behaviours.some((b) => b.kind === 'equivocate') ? { shadow: make('shadow') } : {}) });
  }
  return simulate({ seed: o.seed, sessionId: sid, parties, delta: DELTA, start: 0 });
}

export interface ReshareOptions {
  readonly oldPublic: FrostPublic;
  /** Old shares by party (the dealer's party is its old index here). */
  readonly oldSecrets: ReadonlyMap<number, FrostSecret>;
  readonly dealers: readonly Participant[];
  readonly receivers: readonly Participant[];
  readonly threshold: number;
  readonly seed: number;
  readonly behaviours?: ReadonlyMap<number, readonly Behaviour[]>;
}

export function runReshare(o: ReshareOptions): SimResult {
  const sigs = hmacSignatures(o.seed);
  const cache = new DealingCache();
  const sid = sessionId(o.seed, 'reshare');
  const all = [...new Set([...o.dealers, ...o.receivers].map((p) => p.party))].sort((a, b) => a - b);
  const parties: SimParty[] = [];
  for (const party of all) {
    const signer = sigs.signer(party);
    const behaviours = o.behaviours?.get(party) ?? [];
    const oldShare = o.dealers.some((d) => d.party === party) ? o.oldSecrets.get(party) : undefined;
    const make = (label: string): DealingSession =>
      new ReshareMember({
        sessionId: sid,
        self: party,
        oldPublic: o.oldPublic,
        ...(oldShare ? { oldShare } : {}),
        dealers: o.dealers,
        receivers: o.receivers,
        threshold: o.threshold,
        start: 0,
        delta: DELTA,
        signer,
        verifier: sigs.verifier,
        rng: seededBytes(o.seed * 1000 + party, label),
        cache,
      });
    parties.push({ party, session: make('main'), signer, behaviours, ...(behaviours.some((b) => b.kind === 'equivocate') ? { shadow: make('shadow') } : {}) });
  }
  return simulate({ seed: o.seed, sessionId: sid, parties, delta: DELTA, start: 0 });
}

/** A trusted-dealer key (noble) for members 1..n, as the starting point of refresh and resharing tests. */
export function dealerKey(n: number, t: number): { pub: FrostPublic; secrets: Map<number, FrostSecret> } {
  const deal = ed25519_FROST.trustedDealer({ min: t, max: n });
  const secrets = new Map<number, FrostSecret>();
  for (let i = 1; i <= n; i++) secrets.set(i, deal.secretShares[ed25519_FROST.Identifier.fromNumber(i)]!);
  return { pub: deal.public, secrets };
}
