import type { DisqualifyReason, EquivocationProof, Participant } from './dkg-types.js';

/**
 * The disqualification rules, as a pure function of what every honest member holds alike
 * once the relay windows closed (dkg-session.ts explains why they hold the same):
 * - no valid round-1 package at all: 'silent';
 * - two different signed packages: 'equivocation' (the two are the proof);
 * - a complaint against it and no public answer: 'unanswered-complaint';
 * - any public answer that fails the Feldman check against its own commitments: 'bad-answer'.
 * Subgroup failures of the combined commitments ('bad-commitment') are judged after this,
 * on the qualified set (dkg-session.ts, decide).
 */
export interface Evidence {
  readonly dealers: readonly Participant[];
  readonly receivers: readonly Participant[];
  /** Distinct signed round-1 packages known per dealer (bytes). */
  packages(dealer: number): readonly Uint8Array[];
  /** Complainers against each dealer. */
  complainers(dealer: number): ReadonlySet<number> | undefined;
  /** Whether the public answers of `dealer` to `to` verify: none, all valid, or some bad. */
  answers(dealer: number, to: Participant): 'none' | 'valid' | 'bad';
}

export function judge(e: Evidence): { disqualified: Map<number, DisqualifyReason>; equivocations: EquivocationProof[] } {
  const dq = new Map<number, DisqualifyReason>();
  const equivocations: EquivocationProof[] = [];
  for (const d of e.dealers) {
    const pk = e.packages(d.party);
    if (pk.length === 0) dq.set(d.party, 'silent');
    else if (pk.length > 1) {
      dq.set(d.party, 'equivocation');
      equivocations.push({ party: d.party, packages: [pk[0]!, pk[1]!] });
    }
  }
  for (const d of e.dealers) {
    if (dq.has(d.party)) continue;
    const complainers = e.complainers(d.party);
    for (const to of e.receivers) {
      if (to.party === d.party) continue;
      const verdict = e.answers(d.party, to);
      if (verdict === 'bad') dq.set(d.party, 'bad-answer');
      else if (verdict === 'none' && complainers?.has(to.party)) dq.set(d.party, 'unanswered-complaint');
      if (dq.has(d.party)) break;
    }
  }
  return { disqualified: dq, equivocations };
}
