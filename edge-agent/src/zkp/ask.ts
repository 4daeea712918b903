/**
 * The verifier's shell: asks a peer over the Messenger to prove a statement and judges the
 * answer with a ChallengeBook (challenger.ts). The nonce is 32 fresh random bytes; the
 * challenge is bound to the handshake hash of the channel the request goes out on, and the
 * messenger only takes the reply from that same channel.
 */
import { randomBytes } from 'node:crypto';
import { systemClock, type Clock } from '../clock/index.js';
import { TransportError, type ConnectionManager, type Messenger } from '../transport/index.js';
import { zkpCommitment, zkpProve } from './auth-messages.js';
import { NONCE_BYTES, type ProofKind } from './challenge.js';
import { ChallengeBook, type AcceptedProof } from './challenger.js';
import { ZkpError } from './errors.js';
import { fieldFromBytes, fieldToBytes } from './field.js';

export interface AskOptions {
  readonly messenger: Messenger;
  readonly manager: ConnectionManager;
  readonly book: ChallengeBook;
  readonly peerId: Uint8Array;
  readonly kind: ProofKind;
  /** Key possession: the commitment the peer must prove (from the inventory). */
  readonly commitment?: bigint;
  /** The book's time (issue, expiry); default the system clock. */
  readonly clock?: Clock;
  /** The request's deadline (default: the messenger's). */
  readonly timeoutMs?: number;
}

export interface ProofVerdict extends AcceptedProof {
  /** From sending the challenge to the verdict, on `clock`. */
  readonly ms: number;
}

/**
 * Asks `peerId` for a proof and resolves with the accepted proof; rejects with the ZkpError
 * that says why it was refused (REPLAY, STALE, WRONG_CHALLENGE, WRONG_ROOT, WRONG_COMMITMENT,
 * MALFORMED, BAD_PROOF), or REMOTE when no answer came (the cause is the transport's error).
 */
export async function askProof(opts: AskOptions): Promise<ProofVerdict> {
  if (typeof opts !== 'object' || opts === null) throw new ZkpError('ARGUMENT', 'askProof needs options');
  const { messenger, manager, book, peerId, kind } = opts;
  if (!(book instanceof ChallengeBook)) throw new ZkpError('ARGUMENT', 'book must be a ChallengeBook');
  if (typeof manager?.channel !== 'function' || typeof messenger?.request !== 'function') throw new ZkpError('ARGUMENT', 'askProof needs a messenger and its manager');
  if (!(peerId instanceof Uint8Array) || peerId.length !== 32) throw new ZkpError('ARGUMENT', 'peerId must be 32 bytes');
  const clock = opts.clock ?? systemClock;
  const channel = manager.channel(peerId);
  if (channel === undefined) throw new ZkpError('REMOTE', 'no channel to that peer');
  const handshakeHash = channel.handshakeHash;
  const nonce = randomBytes(NONCE_BYTES);
  const started = clock.now();
  const issued = book.issue(kind, { handshakeHash, nonce, now: started, ...(opts.commitment === undefined ? {} : { commitment: opts.commitment }) });
  let reply;
  try {
    reply = await messenger.request(
      peerId,
      zkpProve,
      { kind, nonce, ...(issued.root === undefined ? {} : { root: fieldToBytes(issued.root) }) },
      opts.timeoutMs === undefined ? {} : { timeoutMs: opts.timeoutMs },
    );
  } catch (err) {
    book.withdraw(nonce);
    if (err instanceof TransportError) throw new ZkpError('REMOTE', `no proof from the peer (${err.code}: ${err.message})`, { cause: err });
    throw err;
  }
  const accepted = await book.check(reply, { handshakeHash, now: clock.now() });
  return { ...accepted, ms: clock.now() - started };
}

/** A peer's published commitment (its 'zkp/commitment' answer), REMOTE when it cannot be had. */
export async function askCommitment(messenger: Messenger, peerId: Uint8Array, opts: { timeoutMs?: number } = {}): Promise<bigint> {
  if (typeof messenger?.request !== 'function') throw new ZkpError('ARGUMENT', 'askCommitment needs a Messenger');
  let reply;
  try {
    reply = await messenger.request(peerId, zkpCommitment, {}, opts.timeoutMs === undefined ? {} : { timeoutMs: opts.timeoutMs });
  } catch (err) {
    if (err instanceof TransportError) throw new ZkpError('REMOTE', `no commitment from the peer (${err.code}: ${err.message})`, { cause: err });
    throw err;
  }
  try {
    return fieldFromBytes(reply.commitment, 'commitment');
  } catch (err) {
    throw new ZkpError('MALFORMED', 'the peer\'s commitment is not a field element', { cause: err });
  }
}
