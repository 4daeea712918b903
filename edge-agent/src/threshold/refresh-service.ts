/**
 * A proactive refresh among the committee over the secure channels: the thin
 * shell around RefreshMember, driven by the same loop as runDkg (same message,
 * same one timer). Every member of the current public package takes part; the
 * group key stays and every share moves. As for the DKG, the members agree
 * beforehand on the session id, the start time and Δ.
 */
import type { FrostPublic, FrostSecret } from '@noble/curves/abstract/frost.js';
import { indexOfIdentifier } from './dkg-public.js';
import { driveDealing, type DealingRunOptions, type DkgOutcome } from './dkg-service.js';
import { ThresholdError } from './errors.js';
import { RefreshMember } from './refresh.js';

export interface RefreshRunOptions extends DealingRunOptions {
  /** The current public package and our current share (our member number is the share's identifier; the roster must cover every member of it). */
  readonly public: FrostPublic;
  readonly share: FrostSecret;
}

/**
 * Runs one refresh to its end: `done` carries our new share and the new public package (same group key),
 * `abort` names the culprits. The old share stays valid for the old package only; the caller swaps them.
 */
export function runRefresh(o: RefreshRunOptions): Promise<DkgOutcome> {
  if (typeof o !== 'object' || o === null) throw new ThresholdError('BAD_ARGUMENT', 'runRefresh: options must be an object');
  if (!(o.roster instanceof Map)) throw new ThresholdError('BAD_ARGUMENT', 'runRefresh: the roster must be a Map');
  if (typeof o.share !== 'object' || o.share === null) throw new ThresholdError('BAD_ARGUMENT', 'runRefresh: share must be a FrostSecret');
  if (typeof o.public !== 'object' || o.public === null || typeof o.public.verifyingShares !== 'object' || o.public.verifyingShares === null) {
    throw new ThresholdError('BAD_ARGUMENT', 'runRefresh: public must be a FrostPublic package');
  }
  const self = indexOfIdentifier(o.share.identifier);
  // Only the package's members take part: broadcasts go to them, not to the rest of the roster.
  const roster = new Map<number, Uint8Array>();
  for (const id of Object.keys(o.public.verifyingShares)) {
    const m = indexOfIdentifier(id);
    const key = o.roster.get(m);
    if (!(key instanceof Uint8Array)) throw new ThresholdError('BAD_ARGUMENT', `runRefresh: member ${m} of the package is not on the roster`);
    roster.set(m, key);
  }
  if (!roster.has(self)) throw new ThresholdError('BAD_ARGUMENT', `runRefresh: our member ${self} has no verifying share in the package`);
  return driveDealing('runRefresh', { ...o, roster, self }, (keys) =>
    new RefreshMember({ sessionId: o.sessionId, public: o.public, share: o.share, start: o.start, delta: o.deltaMs, ...keys }),
  );
}
