import { ed25519_FROST } from '@noble/curves/ed25519.js';
import { DealingCache } from './dkg-cache.js';
import { hex } from './dkg-messages.js';
import { DkgMember } from './dkg.js';
import { foreignPackage, hmacSignatures, seededBytes, simRandom, simulate, type Behaviour, type SimParty, type SignatureScheme } from './dkg-sim.js';
import type { DkgDone } from './dkg-types.js';
import { Point, scalarFromBytes } from './vss.js';

/**
 * Seeded adversarial DKG scenarios and the property every run must satisfy: all honest
 * members end done with the same group key, qualified set and public package (and no
 * honest member disqualified), or all abort naming the same culprits, all byzantine.
 */

export interface Scenario {
  readonly seed: number;
  readonly n: number;
  readonly t: number;
  readonly byzantine: ReadonlyMap<number, readonly Behaviour[]>;
}

const KINDS = [
  'silent',
  'bad-shares',
  'withhold-shares',
  'equivocate',
  'rushing',
  'bad-answers',
  'no-answers',
  'false-complaints',
  'lying-echo',
  'selective-items',
  'replay',
  'oversized',
  'torsion',
  'no-ok',
  'double-ok',
] as const;

/** n in 4..7, t in 2..n−1, up to t−1 byzantine members each mixing one to three behaviours. */
export function scenario(seed: number): Scenario {
  const r = simRandom(seed * 7919 + 17);
  const n = r.int(4, 7);
  const t = r.int(2, n - 1);
  const count = r.next() < 0.1 ? 0 : r.int(1, t - 1);
  const members = Array.from({ length: n }, (_, i) => i + 1);
  const shuffled = [...members].sort(() => r.next() - 0.5);
  const bad = shuffled.slice(0, count).sort((a, b) => a - b);
  const honest = members.filter((m) => !bad.includes(m));
  const someOf = (xs: readonly number[]): number[] => {
    const out = xs.filter(() => r.next() < 0.5);
    return out.length > 0 ? out : [xs[r.int(0, xs.length - 1)]!];
  };
  const byzantine = new Map<number, Behaviour[]>();
  for (const p of bad) {
    const others = members.filter((m) => m !== p);
    const kinds = new Set<(typeof KINDS)[number]>();
    const k = r.int(1, 3);
    while (kinds.size < k) kinds.add(KINDS[r.int(0, KINDS.length - 1)]!);
    const list: Behaviour[] = [];
    for (const kind of kinds) {
      switch (kind) {
        case 'silent':
        case 'bad-answers':
        case 'no-answers':
        case 'lying-echo':
        case 'no-ok':
        case 'oversized':
        case 'torsion':
          list.push({ kind });
          break;
        case 'bad-shares':
        case 'withhold-shares':
          list.push({ kind, victims: someOf(others) });
          break;
        case 'equivocate':
        case 'double-ok':
          list.push({ kind, split: someOf(others) });
          break;
        case 'rushing':
          list.push({ kind, rogue: r.next() < 0.5 });
          break;
        case 'false-complaints':
          list.push({ kind, against: someOf(honest) });
          break;
        case 'selective-items':
          list.push({ kind, to: honest[r.int(0, honest.length - 1)]! });
          break;
        case 'replay':
          list.push({ kind, old: [foreignPackage(p, hmacSignatures(seed).signer(p), t, seed)] });
          break;
      }
    }
    byzantine.set(p, list);
  }
  return { seed, n, t, byzantine };
}

export type Verdict =
  | {
      readonly ok: true;
      readonly outcome: 'done' | 'done-with-disqualified' | 'abort';
      readonly disqualified: readonly number[];
      readonly culprits: readonly number[];
      /** Every honest member decided by the early finish. */
      readonly early: boolean;
    }
  | { readonly ok: false; readonly problem: string };

export interface RunOptions {
  readonly sigs?: SignatureScheme;
  readonly cache?: DealingCache;
  /** Also check every honest share with noble's validateSecret and sign with t of them. */
  readonly deep?: boolean;
}

export function runScenario(s: Scenario, options: RunOptions = {}): { verdict: Verdict; done: readonly DkgDone[] } {
  const sigs = options.sigs ?? hmacSignatures(s.seed);
  const cache = options.cache ?? new DealingCache();
  const sid = new Uint8Array(16);
  new DataView(sid.buffer).setUint32(0, s.seed);
  sid.set(new TextEncoder().encode('adv-dkg!'), 8);
  const parties: SimParty[] = [];
  for (let party = 1; party <= s.n; party++) {
    const signer = sigs.signer(party);
    const behaviours = s.byzantine.get(party) ?? [];
    const make = (label: string): DkgMember =>
      new DkgMember({ sessionId: sid, self: party, n: s.n, threshold: s.t, start: 0, delta: 100, signer, verifier: sigs.verifier, rng: seededBytes(s.seed * 64 + party, label), cache });
    parties.push({ party, session: make('main'), signer, behaviours, ...(behaviours.some((b) => b.kind === 'equivocate') ? { shadow: make('shadow') } : {}) });
  }
  const result = simulate({ seed: s.seed, sessionId: sid, parties, delta: 100, start: 0 });
  const honest = parties.filter((p) => (p.behaviours ?? []).length === 0).map((p) => p.party);
  const outs = honest.map((p) => result.outcomes.get(p));
  const early = parties.filter((p) => honest.includes(p.party)).every((p) => p.session.stats.early);
  const fail = (problem: string): { verdict: Verdict; done: DkgDone[] } => ({ verdict: { ok: false, problem }, done: [] });
  if (outs.some((o) => o === undefined)) return fail('an honest member did not finish');
  const isByz = (p: number): boolean => s.byzantine.has(p);
  if (outs.every((o) => o!.kind === 'abort')) {
    const culprits = outs.map((o) => (o!.kind === 'abort' ? o!.culprits.join(',') : ''));
    if (new Set(culprits).size !== 1) return fail(`honest members blame different culprits: ${culprits.join(' | ')}`);
    const named = outs[0]!.kind === 'abort' ? outs[0]!.culprits : [];
    if (named.length === 0) return fail(`abort without a culprit: ${outs[0]!.kind === 'abort' ? outs[0]!.reason : ''}`);
    if (!named.every(isByz)) return fail(`an honest member was blamed: ${named.join(',')}`);
    return { verdict: { ok: true, outcome: 'abort', disqualified: named, culprits: named, early }, done: [] };
  }
  if (!outs.every((o) => o!.kind === 'done')) return fail(`mixed outcomes: ${outs.map((o) => o!.kind).join(',')}`);
  const done = outs as DkgDone[];
  const first = done[0]!;
  const pubKey = (d: DkgDone): string => [d.public.signers.min, d.public.signers.max, ...d.public.commitments.map(hex), ...Object.entries(d.public.verifyingShares).map(([k, v]) => `${k}=${hex(v)}`)].join(':');
  for (const d of done) {
    if (hex(d.groupKey) !== hex(first.groupKey)) return fail('group keys differ');
    if (d.qualified.join(',') !== first.qualified.join(',')) return fail(`qualified sets differ: ${d.qualified.join(',')} vs ${first.qualified.join(',')}`);
    if (pubKey(d) !== pubKey(first)) return fail('public packages differ');
    if (d.disqualified.some((x) => !isByz(x.party))) return fail('an honest member was disqualified');
    // The cheap check of a share: share·G equals its verifying share in the package.
    const vs = d.public.verifyingShares[d.share!.identifier];
    if (vs === undefined || hex(Point.BASE.multiply(scalarFromBytes(d.share!.signingShare)).toBytes()) !== hex(vs)) return fail('a share does not match its verifying share');
    if (options.deep) {
      try {
        ed25519_FROST.validateSecret(d.share!, d.public);
      } catch (err) {
        return fail(`validateSecret: ${err instanceof Error ? err.message : String(err)}`);
      }
    }
  }
  const dq = first.disqualified.map((d) => d.party);
  return { verdict: { ok: true, outcome: dq.length > 0 ? 'done-with-disqualified' : 'done', disqualified: dq, culprits: [], early }, done };
}
