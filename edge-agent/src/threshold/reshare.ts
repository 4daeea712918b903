import type { FrostPublic, FrostSecret } from '@noble/curves/abstract/frost.js';
import { ThresholdError } from './errors.js';
import type { DealingCache } from './dkg-cache.js';
import { buildPublic, parsePublic, parseSecret, secretOf } from './dkg-public.js';
import { DealingSession, dealingBasics, type DealingOptions, type Qualified } from './dkg-session.js';
import type { DkgAbort, DkgDone, Participant } from './dkg-types.js';
import { evalCommitment, Fn, lagrangeAtZero, type EdPoint } from './vss.js';

/**
 * Resharing to a new committee (Desmedt–Jajodia / Wong–Wang–Wing style): each old member i
 * deals its share s_i with a degree t'−1 polynomial to the new members; everyone checks
 * C_i,0 == Y_i, i's verifying share computed from the old commitments. After complaints,
 * with QUAL the qualified dealers (at least t_old of them, else abort), new member j gets
 * s'_j = Σ_{i∈QUAL} λ_i·f_i(j) and the new commitments are Σ λ_i·C_i, with λ_i the
 * Lagrange coefficients at 0 over QUAL's old indices, so Σ λ_i·Y_i = Y: the group key
 * stays. Dealers share s_i rather than λ_i·s_i so that λ is computed once QUAL is known:
 * a disqualified dealer then costs nothing. Parties may sit in both committees, with
 * different indices; members can be added or removed and the threshold changed.
 */
export interface ReshareConfig extends DealingOptions {
  readonly self: number;
  /** The old committee's public package. */
  readonly oldPublic: FrostPublic;
  /** This party's old share, if it is an old member dealing. */
  readonly oldShare?: FrostSecret;
  /** Old members that deal (party and old index); at least t_old of them. */
  readonly dealers: readonly Participant[];
  /** The new committee (party and new index). */
  readonly receivers: readonly Participant[];
  /** The new threshold t'. Byzantine parties tolerated (faults) default to (t_old−1)+(t'−1). */
  readonly threshold: number;
}

export class ReshareMember extends DealingSession {
  constructor(config: ReshareConfig) {
    if (typeof config !== 'object' || config === null) throw new ThresholdError('BAD_ARGUMENT', 'reshare config must be an object');
    const old = parsePublic(config.oldPublic);
    if (!Array.isArray(config.dealers) || config.dealers.length < old.threshold) {
      throw new ThresholdError('NOT_ENOUGH_SIGNERS', `resharing needs at least ${old.threshold} old members dealing`);
    }
    const expected = new Map<number, EdPoint>();
    for (const d of config.dealers) expected.set(d.party, evalCommitment(old.commitments, BigInt(d.index)));
    const selfDealer = config.dealers.find((d) => d.party === config.self);
    let secret: bigint | undefined;
    if (selfDealer !== undefined) {
      if (config.oldShare === undefined) throw new ThresholdError('BAD_ARGUMENT', `dealer ${config.self} must give its old share`);
      const mine = parseSecret(config.oldShare, config.oldPublic);
      if (mine.index !== selfDealer.index) throw new ThresholdError('BAD_ARGUMENT', `old share is for index ${mine.index}, dealer ${config.self} has index ${selfDealer.index}`);
      secret = mine.share;
    }
    const t = config.threshold;
    const receivers = config.receivers;
    const parties = new Set([...config.dealers, ...(Array.isArray(receivers) ? receivers : [])].map((p) => p.party)).size;
    super({
      ...dealingBasics(config, Math.min(parties - 1, old.threshold - 1 + (t - 1))),
      self: config.self,
      dealers: config.dealers,
      receivers,
      threshold: t,
      minQualified: old.threshold,
      constant: { kind: 'fixed', expected },
      ...(secret !== undefined ? { secret } : {}),
      weights: lagrangeWeights,
      combine: (q) => combineReshare(q, old.commitments[0]!, receivers, config.self, t, config.cache),
    });
  }
}

/** λ_i at 0 over the qualified dealers' old indices. */
function lagrangeWeights(dealers: readonly Participant[]): bigint[] {
  const xs = dealers.map((d) => BigInt(d.index));
  return xs.map((x) => lagrangeAtZero(xs, x));
}

function combineReshare(q: Qualified, groupKey: EdPoint, receivers: readonly Participant[], self: number, t: number, cache?: DealingCache): DkgDone | DkgAbort {
  const lambdas = q.weights;
  const merged = q.merged;
  // Holds by construction (each C_i,0 was checked against Y_i); a failure means a bug, not an attack.
  if (!merged[0]!.equals(groupKey)) throw new ThresholdError('ABORTED', 'reshared commitments do not keep the group key');
  const me = receivers.find((r) => r.party === self);
  let share: bigint | undefined;
  if (me !== undefined) {
    share = 0n;
    q.dealers.forEach((d, k) => {
      share = (share! + lambdas[k]! * q.shares.get(d.party)!) % Fn.ORDER;
    });
  }
  const pub = buildPublic(merged, receivers, t, receivers.length, cache);
  return {
    kind: 'done',
    groupKey: pub.commitments[0]!.slice(),
    share: me !== undefined && share !== undefined ? secretOf(me.index, share) : undefined,
    public: pub,
    qualified: q.dealers.map((d) => d.party),
    disqualified: q.disqualified,
    equivocations: q.equivocations,
  };
}
