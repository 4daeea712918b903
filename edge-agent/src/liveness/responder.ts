/**
 * The answering side, which every agent runs: a handler for
 * 'liveness/challenge' that signs (challenger, us, nonce) with our identity
 * key. The challenger is the channel's authenticated peer, never a field of
 * the request, so nobody can make us sign an answer meant for someone else.
 */
import { timingSafeEqual } from 'node:crypto';
import type { Clock } from '../clock/index.js';
import { IdentityError, peerIdOf, publicKeyOf, toHex } from '../identity/index.js';
import { TransportError, type Incoming, type Messenger } from '../transport/index.js';
import { LivenessError } from './errors.js';
import { AnswerLimiter, type AnswerLimit } from './limit.js';
import { livenessChallenge } from './messages.js';
import { signAnswer } from './proof.js';
import { clockOf, requireBytes } from './validate.js';

export interface ResponderOptions extends AnswerLimit {
  /** Our 32-byte identity secret key; copied, and the copy wiped by close(). */
  readonly secretKey: Uint8Array;
  /** Our peer id; must be the one of secretKey (a cheap guard against mixed-up keys). */
  readonly peerId: Uint8Array;
  /** Time for the answer budget; systemClock when omitted. */
  readonly clock?: Clock;
}

export interface LivenessResponder {
  /** Wipes the key copy; later challenges get the error reply CLOSED. */
  close(): void;
}

/** Registers the challenge handler on `messenger` (once per messenger). */
export function registerLivenessResponder(messenger: Messenger, options: ResponderOptions): LivenessResponder {
  if (typeof messenger !== 'object' || messenger === null || typeof messenger.handle !== 'function') {
    throw new LivenessError('BAD_ARGUMENT', 'registerLivenessResponder needs a Messenger.');
  }
  if (typeof options !== 'object' || options === null) throw new LivenessError('BAD_ARGUMENT', 'The responder options must be an object.');
  const clock = clockOf(options.clock);
  const peerId = Uint8Array.from(requireBytes(options.peerId, 32, 'peerId'));
  // The copy is made last among the checks that cannot wipe it.
  const secretKey = Uint8Array.from(requireBytes(options.secretKey, 32, 'secretKey'));
  let limiter: AnswerLimiter;
  try {
    let ours: Uint8Array;
    try {
      ours = peerIdOf(publicKeyOf(secretKey));
    } catch (err) {
      if (err instanceof IdentityError) throw new LivenessError('BAD_ARGUMENT', `secretKey: ${err.message}`, { cause: err });
      throw err;
    }
    if (!timingSafeEqual(ours, peerId)) throw new LivenessError('BAD_ARGUMENT', 'peerId is not the peer id of secretKey.');
    limiter = new AnswerLimiter(options);
  } catch (err) {
    secretKey.fill(0);
    throw err;
  }

  let closed = false;
  const answer = ({ peerId: challenger, body }: Incoming<{ nonce: Uint8Array }>): { signature: Uint8Array } => {
    if (closed) throw new LivenessError('CLOSED', 'The liveness responder is closed.');
    if (!limiter.take(toHex(challenger), clock.now())) {
      throw new LivenessError('RATE_LIMITED', `Challenger ${toHex(challenger).slice(0, 8)} is over its answer budget.`);
    }
    return { signature: signAnswer(secretKey, challenger, peerId, body.nonce) };
  };
  try {
    messenger.handle(livenessChallenge, answer);
  } catch (err) {
    secretKey.fill(0);
    if (err instanceof TransportError) throw new LivenessError('BAD_ARGUMENT', `registerLivenessResponder: ${err.message}`, { cause: err });
    throw err;
  }
  return {
    close(): void {
      closed = true;
      secretKey.fill(0);
    },
  };
}
