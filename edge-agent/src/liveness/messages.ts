/**
 * The one request liveness speaks: 'liveness/challenge' carries a 32-byte
 * nonce, its reply the responder's 64-byte signature (see proof.ts).
 */
import * as s from '../schema/index.js';
import { defineRequest } from '../transport/index.js';
import { MessageRegistry, WireError, type MessageType } from '../wire/index.js';
import { NONCE_LENGTH } from './core.js';
import { LivenessError } from './errors.js';

export const livenessChallenge = defineRequest(
  'liveness/challenge',
  s.object({ nonce: s.bytes({ len: NONCE_LENGTH }) }),
  s.object({ signature: s.bytes({ len: 64 }) }),
);

export type LivenessMessage = typeof livenessChallenge.request | typeof livenessChallenge.response;

/** `registry` plus the challenge and its reply, for the Messenger every agent runs. */
export function withLivenessMessages<M extends MessageType>(registry: MessageRegistry<M>): MessageRegistry<M | LivenessMessage> {
  if (!(registry instanceof MessageRegistry)) throw new LivenessError('BAD_ARGUMENT', 'withLivenessMessages needs a MessageRegistry.');
  try {
    return registry.with(livenessChallenge.request, livenessChallenge.response);
  } catch (err) {
    if (err instanceof WireError) throw new LivenessError('BAD_ARGUMENT', `withLivenessMessages: ${err.message}`, { cause: err });
    throw err;
  }
}
