/**
 * The challenge-response messages, as wire/ requests (canonical CBOR envelopes, decoded with
 * the messenger's bounds and checked by these schemas):
 *   'zkp/prove'      { kind: "membership" | "keyPossession", nonce: bstr 32, root?: bstr 32 }
 *     reply          { nonce: bstr 32, proof: bstr ≤ 704 }   (the proof: encodeProofResult)
 *   'zkp/commitment' {}  reply { commitment: bstr 32 }        (a board's published commitment)
 * The request carries no challenge value: the prover derives it from its own channel (challenge.ts).
 * `root` is the verifier's current fleet root, a hint the prover may prove against.
 */
import * as s from '../schema/index.js';
import { defineRequest } from '../transport/index.js';
import { MessageRegistry, WireError, type MessageType } from '../wire/index.js';
import { NONCE_BYTES, PROOF_KINDS } from './challenge.js';
import { ZkpError } from './errors.js';
import { MAX_SIGNALS } from './proof-codec.js';

/** Room for a proof with MAX_SIGNALS signals (proof-codec.ts bounds the same). */
export const MAX_PROOF_BYTES = 160 + MAX_SIGNALS * 34;

export const zkpProve = defineRequest(
  'zkp/prove',
  s.object({ kind: s.oneOf(PROOF_KINDS), nonce: s.bytes({ len: NONCE_BYTES }), root: s.optional(s.bytes({ len: 32 })) }),
  s.object({ nonce: s.bytes({ len: NONCE_BYTES }), proof: s.bytes({ min: 1, max: MAX_PROOF_BYTES }) }),
);

export const zkpCommitment = defineRequest('zkp/commitment', s.object({}), s.object({ commitment: s.bytes({ len: 32 }) }));

export type ProveRequest = s.Infer<typeof zkpProve.request.body>;
export type ProveReply = s.Infer<typeof zkpProve.result>;
export type ZkpMessage = typeof zkpProve.request | typeof zkpProve.response | typeof zkpCommitment.request | typeof zkpCommitment.response;

/** `registry` plus the zkp requests and replies, for the Messenger. */
export function withZkpMessages<M extends MessageType>(registry: MessageRegistry<M>): MessageRegistry<M | ZkpMessage> {
  if (!(registry instanceof MessageRegistry)) throw new ZkpError('ARGUMENT', 'withZkpMessages needs a MessageRegistry');
  try {
    return registry.with(zkpProve.request, zkpProve.response, zkpCommitment.request, zkpCommitment.response);
  } catch (err) {
    if (err instanceof WireError) throw new ZkpError('ARGUMENT', `withZkpMessages: ${err.message}`, { cause: err });
    throw err;
  }
}
