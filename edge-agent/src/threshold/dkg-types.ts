import type { FrostPublic, FrostSecret } from '@noble/curves/abstract/frost.js';

/**
 * Types shared by the dealing cores (DKG, refresh, resharing) and their simulator.
 * A party is the number the shell routes and authenticates by (its identity key);
 * its index is its x-coordinate in the sharing (noble's Identifier.fromNumber(index)).
 * In a DKG or a refresh the two are equal; a resharing maps old and new committees.
 */
export interface Participant {
  readonly party: number;
  readonly index: number;
}

/** Signs with this member's identity key (Ed25519 or secp256k1, the core does not care). */
export interface DkgSigner {
  sign(bytes: Uint8Array): Uint8Array;
}

/** Checks a signature by a party's identity key; must not throw (false for anything bad). */
export interface DkgVerifier {
  verify(party: number, bytes: Uint8Array, signature: Uint8Array): boolean;
}

/** Why an incoming message was dropped; counted, never thrown. */
export type DropReason =
  | 'oversized'
  | 'malformed'
  | 'bad-signature'
  | 'wrong-session'
  | 'wrong-sender'
  | 'unknown-party'
  | 'duplicate'
  | 'late'
  | 'invalid'
  | 'finished';

export const DROP_REASONS: readonly DropReason[] = [
  'oversized',
  'malformed',
  'bad-signature',
  'wrong-session',
  'wrong-sender',
  'unknown-party',
  'duplicate',
  'late',
  'invalid',
  'finished',
];

/**
 * Why a dealer left the qualified set. Every reason rests on information all honest
 * members agree on (see dkg-session.ts): a missing or doubled round-1 package, or a
 * complaint it did not answer with a share that verifies, or commitments outside the
 * prime-order subgroup that would spoil the combined public package.
 */
export type DisqualifyReason = 'silent' | 'equivocation' | 'unanswered-complaint' | 'bad-answer' | 'bad-commitment';

export interface Disqualification {
  readonly party: number;
  readonly reason: DisqualifyReason;
}

/** Two different round-1 packages signed by the same dealer: the proof it equivocated. */
export interface EquivocationProof {
  readonly party: number;
  readonly packages: readonly [Uint8Array, Uint8Array];
}

export type DkgAction =
  /** To every other participant of the session. */
  | { readonly kind: 'broadcast'; readonly message: Uint8Array }
  /** To one participant, over the secure channel (shares travel this way). */
  | { readonly kind: 'send'; readonly to: number; readonly message: Uint8Array }
  | DkgDone
  | DkgAbort;

export interface DkgDone {
  readonly kind: 'done';
  /** The group public key (32 bytes), equal to public.commitments[0]. */
  readonly groupKey: Uint8Array;
  /** This member's share; undefined for a dealer of a resharing that is not in the new committee. */
  readonly share: FrostSecret | undefined;
  /** The group's public package, ready for noble's ed25519_FROST. */
  readonly public: FrostPublic;
  /** Parties of the dealers whose sharings were summed, ascending. */
  readonly qualified: readonly number[];
  readonly disqualified: readonly Disqualification[];
  readonly equivocations: readonly EquivocationProof[];
}

export interface DkgAbort {
  readonly kind: 'abort';
  /** Parties to blame, ascending (all of them disqualified on agreed evidence). */
  readonly culprits: readonly number[];
  readonly reason: string;
  readonly disqualified: readonly Disqualification[];
  readonly equivocations: readonly EquivocationProof[];
}

export type DkgStatus = 'running' | 'done' | 'aborted';

export interface DkgStats {
  readonly dropped: Readonly<Record<DropReason, number>>;
  readonly sent: number;
  readonly relayed: number;
  /** Decided by the early finish (every participant promised the same packages), not by the schedule. */
  readonly early: boolean;
}
