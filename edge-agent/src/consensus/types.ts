/**
 * Types shared by the replica, the client and the simulator. Replicas are numbered 0..n−1
 * (the shell maps numbers to identity keys); clients are numbered by the shell as well.
 */

/** Signs with this replica's (or client's) identity key; the core does not care which curve. */
export interface ConsensusSigner {
  sign(bytes: Uint8Array): Uint8Array;
}

/** Checks a signature by replica `replica`'s key; must not throw (false for anything bad). */
export interface ConsensusVerifier {
  verify(replica: number, bytes: Uint8Array, signature: Uint8Array): boolean;
}

/** Checks a client's signature on its request; must not throw. */
export interface ClientVerifier {
  verify(client: number, bytes: Uint8Array, signature: Uint8Array): boolean;
}

/** Why an incoming message was dropped; counted, never thrown. */
export type DropReason =
  | 'oversized'
  | 'malformed'
  | 'bad-signature'
  | 'unknown-replica'
  | 'wrong-sender'
  | 'wrong-view'
  | 'out-of-window'
  | 'conflict'
  | 'duplicate'
  | 'stale'
  | 'invalid';

export const DROP_REASONS: readonly DropReason[] = [
  'oversized',
  'malformed',
  'bad-signature',
  'unknown-replica',
  'wrong-sender',
  'wrong-view',
  'out-of-window',
  'conflict',
  'duplicate',
  'stale',
  'invalid',
];

/**
 * What must be durable before any later action of the same list is carried out: the shell
 * appends it to its log (encodePersistRecord gives the bytes) and only then carries on. A
 * replica rebuilt from these records (ReplicaConfig.recovered, in the order they were
 * persisted) never contradicts what it sent. The log may be rewritten at any time between
 * two action lists as `replica.compactRecords()` (an equivalent, minimal set).
 */
export type PersistRecord =
  /** A message this replica signed (pre-prepare, prepare, commit, checkpoint, view-change, new-view). */
  | { readonly type: 'message'; readonly bytes: Uint8Array }
  /** The replica moved to `view` (normal operation when `active`, else waiting for its new-view). */
  | { readonly type: 'view'; readonly view: number; readonly active: boolean }
  /** A stable checkpoint: the state bundle at `seq` and its q signed checkpoint messages. */
  | { readonly type: 'stable'; readonly seq: number; readonly bundle: Uint8Array; readonly proof: readonly Uint8Array[] }
  /**
   * A prepared certificate (the pre-prepare and q−1 prepares), persisted before the commit it
   * allows: a view-change after a restart must still carry it, or a committed batch could be
   * replaced in the new view.
   */
  | { readonly type: 'prepared'; readonly pp: Uint8Array; readonly ps: readonly Uint8Array[] };

/** One executed request, as reported to the host (and checked by the simulator). */
export interface ExecutedRequest {
  readonly client: number;
  readonly timestamp: number;
  readonly result: Uint8Array;
}

export type ReplicaEvent =
  /** A batch ran: `requests` lists only what actually executed (duplicates of executed requests are skipped). */
  | { readonly kind: 'executed'; readonly seq: number; readonly view: number; readonly digest: Uint8Array; readonly requests: readonly ExecutedRequest[] }
  | { readonly kind: 'view-change'; readonly view: number }
  | { readonly kind: 'new-view'; readonly view: number }
  | { readonly kind: 'stable'; readonly seq: number }
  /** The state was replaced by a transferred snapshot at `seq`. */
  | { readonly kind: 'state-transfer'; readonly seq: number };

export type ReplicaAction =
  /** To one replica. */
  | { readonly kind: 'send'; readonly to: number; readonly bytes: Uint8Array }
  /** To every other replica. */
  | { readonly kind: 'broadcast'; readonly bytes: Uint8Array }
  /** To a client. */
  | { readonly kind: 'reply'; readonly client: number; readonly bytes: Uint8Array }
  | { readonly kind: 'persist'; readonly record: PersistRecord }
  | { readonly kind: 'event'; readonly event: ReplicaEvent };
