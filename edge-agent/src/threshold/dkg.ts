import { ThresholdError } from './errors.js';
import type { DealingCache } from './dkg-cache.js';
import { buildPublic, secretOf } from './dkg-public.js';
import { DealingSession, dealingBasics, type DealingOptions, type Qualified } from './dkg-session.js';
import type { DkgDone, Participant } from './dkg-types.js';
import { Fn } from './vss.js';

/**
 * Distributed key generation among members 1..n (party = index = member number):
 * every member deals a random secret with a proof of knowledge, the qualified sharings
 * are summed. Group key Y = Σ_{i∈QUAL} C_i,0, share s_j = Σ_{i∈QUAL} f_i(j).
 * Rule: at least t dealers must qualify, else everyone aborts naming the disqualified.
 * With at most t−1 byzantine members and n ≥ 2t−1 that never happens, since honest
 * members are never disqualified.
 */
export interface DkgConfig extends DealingOptions {
  /** This member's number, 1..n. */
  readonly self: number;
  readonly n: number;
  readonly threshold: number;
}

export function committee(n: number): Participant[] {
  if (!Number.isSafeInteger(n) || n < 2 || n > 1024) throw new ThresholdError('BAD_ARGUMENT', `committee size must be from 2 to 1024, got ${String(n)}`);
  return Array.from({ length: n }, (_, i) => ({ party: i + 1, index: i + 1 }));
}

export class DkgMember extends DealingSession {
  constructor(config: DkgConfig) {
    if (typeof config !== 'object' || config === null) throw new ThresholdError('BAD_ARGUMENT', 'DKG config must be an object');
    const members = committee(config.n);
    if (!Number.isSafeInteger(config.threshold) || config.threshold < 2 || config.threshold > config.n) {
      throw new ThresholdError('BAD_ARGUMENT', `threshold must be from 2 to n=${config.n}`);
    }
    if (!Number.isSafeInteger(config.self) || config.self < 1 || config.self > config.n) throw new ThresholdError('BAD_ARGUMENT', `self must be from 1 to ${config.n}`);
    const t = config.threshold;
    super({
      ...dealingBasics(config, t - 1),
      self: config.self,
      dealers: members,
      receivers: members,
      threshold: t,
      minQualified: t,
      constant: { kind: 'proof' },
      combine: (q) => combineDkg(q, members, config.self, t, config.cache),
    });
  }
}

function combineDkg(q: Qualified, members: readonly Participant[], self: number, t: number, cache?: DealingCache): DkgDone {
  const merged = q.merged;
  let share = 0n;
  for (const s of q.shares.values()) share = (share + s) % Fn.ORDER;
  const out = new Set(q.disqualified.map((d) => d.party));
  const pub = buildPublic(merged, members.filter((m) => !out.has(m.party)), t, members.length, cache);
  return {
    kind: 'done',
    groupKey: pub.commitments[0]!.slice(),
    share: secretOf(self, share),
    public: pub,
    qualified: q.dealers.map((d) => d.party),
    disqualified: q.disqualified,
    equivocations: q.equivocations,
  };
}
