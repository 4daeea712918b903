import type { FrostPublic, FrostSecret } from '@noble/curves/abstract/frost.js';
import { ThresholdError } from './errors.js';
import type { DealingCache } from './dkg-cache.js';
import { buildPublic, parsePublic, parseSecret, secretOf } from './dkg-public.js';
import { DealingSession, dealingBasics, type DealingOptions, type Qualified } from './dkg-session.js';
import type { DkgAbort, DkgDone, Participant } from './dkg-types.js';
import { Fn, type EdPoint } from './vss.js';

/**
 * Proactive refresh (Herzberg et al. 1995): every member deals a sharing of zero
 * (C_0 must be the identity, checked), with the same echo, complaint and relay rules as
 * the DKG. New share = old share + Σ_{i∈QUAL} z_i(j); new commitments = old + Σ C_i, so
 * the group key stays and every share moves by a random polynomial the adversary does
 * not know as long as one honest dealer qualifies. Hence the rule: at least t dealers
 * must qualify (with at most t−1 byzantine, one of them is honest), else all abort.
 * Old and new shares lie on different polynomials: mixing them reconstructs nothing.
 */
export interface RefreshConfig extends DealingOptions {
  /** The current public package and this member's current share. */
  readonly public: FrostPublic;
  readonly share: FrostSecret;
}

export class RefreshMember extends DealingSession {
  constructor(config: RefreshConfig) {
    if (typeof config !== 'object' || config === null) throw new ThresholdError('BAD_ARGUMENT', 'refresh config must be an object');
    const old = parsePublic(config.public);
    const mine = parseSecret(config.share, config.public);
    const members = old.members;
    if (!members.some((m) => m.index === mine.index)) throw new ThresholdError('BAD_ARGUMENT', `member ${mine.index} has no verifying share in the public package`);
    if (members.length < old.threshold) throw new ThresholdError('NOT_ENOUGH_SIGNERS', `${members.length} members cannot refresh a ${old.threshold}-of sharing`);
    const t = old.threshold;
    super({
      ...dealingBasics(config, t - 1),
      self: mine.index,
      dealers: members,
      receivers: members,
      threshold: t,
      minQualified: t,
      constant: { kind: 'zero' },
      combine: (q) => combineRefresh(q, old.commitments, members, mine, t, old.max, config.cache),
    });
  }
}

function combineRefresh(
  q: Qualified,
  oldCommitments: readonly EdPoint[],
  members: readonly Participant[],
  mine: { index: number; share: bigint },
  t: number,
  max: number,
  cache?: DealingCache,
): DkgDone | DkgAbort {
  const merged = oldCommitments.map((c, k) => c.add(q.merged[k]!));
  let share = mine.share;
  for (const s of q.shares.values()) share = (share + s) % Fn.ORDER;
  const out = new Set(q.disqualified.map((d) => d.party));
  const pub = buildPublic(merged, members.filter((m) => !out.has(m.party)), t, max, cache);
  return {
    kind: 'done',
    groupKey: pub.commitments[0]!.slice(),
    share: secretOf(mine.index, share),
    public: pub,
    qualified: q.dealers.map((d) => d.party),
    disqualified: q.disqualified,
    equivocations: q.equivocations,
  };
}
