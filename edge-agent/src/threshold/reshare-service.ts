/**
 * Resharing over the secure channels: the thin shell around ReshareMember,
 * driven by the same loop as runDkg and runRefresh. The old members deal
 * their shares to the new committee (members added or removed, threshold
 * changed); the group key stays. Parties are the roster's numbers; each
 * participant's index in the old and in the new sharing is given explicitly,
 * since a party may sit in both committees with different indices.
 */
import { driveDealing, type DealingRunOptions, type DkgOutcome } from './dkg-service.js';
import { ThresholdError } from './errors.js';
import { ReshareMember, type ReshareConfig } from './reshare.js';

/**
 * The resharing's own fields are ReshareConfig's: `self` (our party on the roster), the old package and our old
 * share if we deal, the dealers (party, old index), the receivers (party, new index) and the new threshold.
 */
export interface ReshareRunOptions extends DealingRunOptions, Pick<ReshareConfig, 'self' | 'oldPublic' | 'oldShare' | 'dealers' | 'receivers' | 'threshold'> {}

/**
 * Runs one resharing to its end: `done` carries our new share (undefined for a dealer leaving the committee) and
 * the new public package (same group key); `abort` names the culprits.
 */
export function runReshare(o: ReshareRunOptions): Promise<DkgOutcome> {
  if (typeof o !== 'object' || o === null) throw new ThresholdError('BAD_ARGUMENT', 'runReshare: options must be an object');
  if (!(o.roster instanceof Map)) throw new ThresholdError('BAD_ARGUMENT', 'runReshare: the roster must be a Map');
  if (!Array.isArray(o.dealers) || !Array.isArray(o.receivers)) throw new ThresholdError('BAD_ARGUMENT', 'runReshare: dealers and receivers must be arrays');
  // Only the participants take part: broadcasts go to them, not to the rest of the roster.
  const roster = new Map<number, Uint8Array>();
  for (const p of [...o.dealers, ...o.receivers]) {
    const key = o.roster.get(p?.party);
    if (!(key instanceof Uint8Array)) throw new ThresholdError('BAD_ARGUMENT', `runReshare: party ${String(p?.party)} is not on the roster`);
    roster.set(p.party, key);
  }
  if (!roster.has(o.self)) throw new ThresholdError('BAD_ARGUMENT', `runReshare: party ${o.self} is neither a dealer nor a receiver`);
  return driveDealing('runReshare', { ...o, roster }, (keys) =>
    new ReshareMember({
      sessionId: o.sessionId,
      self: o.self,
      oldPublic: o.oldPublic,
      ...(o.oldShare ? { oldShare: o.oldShare } : {}),
      dealers: o.dealers,
      receivers: o.receivers,
      threshold: o.threshold,
      start: o.start,
      delta: o.deltaMs,
      ...keys,
    }),
  );
}
