/**
 * The signing service's two requests over the secure channels:
 * 'threshold/commit' asks a member for a fresh nonce commitment,
 * 'threshold/sign' for its signature share over a message and the chosen
 * commitments ('threshold/prepare' hands it commitments fetched ahead to
 * decode while idle). Bodies are bytes and small integers; points and scalars are
 * decoded (and checked) by frost.ts, never trusted from the schema alone.
 */
import * as s from '../schema/index.js';
import { defineRequest } from '../transport/index.js';
import { MessageRegistry, WireError, type MessageType } from '../wire/index.js';
import { ThresholdError } from './errors.js';
import { MAX_MEMBERS, POINT_BYTES, SCALAR_BYTES } from './frost.js';
import { DEFAULT_MAX_MESSAGE_BYTES } from './signing.js';

const member = s.int({ min: 1, max: MAX_MEMBERS });
const commitment = s.object({ member, hiding: s.bytes({ len: POINT_BYTES }), binding: s.bytes({ len: POINT_BYTES }) });

export const thresholdCommit = defineRequest(
  'threshold/commit',
  s.object({ groupKey: s.bytes({ len: POINT_BYTES }) }),
  commitment,
);

export const thresholdSign = defineRequest(
  'threshold/sign',
  s.object({
    groupKey: s.bytes({ len: POINT_BYTES }),
    message: s.bytes({ max: DEFAULT_MAX_MESSAGE_BYTES }),
    commitments: s.array(commitment, { min: 1, max: MAX_MEMBERS }),
  }),
  s.object({ member, share: s.bytes({ len: SCALAR_BYTES }) }),
);

/** Most commitments one prepare request carries (a pool's worth for a large committee). */
export const MAX_PREPARE_COMMITMENTS = 64;

/**
 * 'threshold/prepare': commitments a coordinator holds ahead for a coming
 * signature (its pool). A member decodes and checks them while idle, so its
 * sign request later finds the points decoded; the answer carries nothing.
 * Nothing is trusted from it: a sign request is checked in full all the same.
 */
export const thresholdPrepare = defineRequest(
  'threshold/prepare',
  s.object({ groupKey: s.bytes({ len: POINT_BYTES }), commitments: s.array(commitment, { min: 1, max: MAX_PREPARE_COMMITMENTS }) }),
  s.object({ decoded: s.int({ min: 0, max: MAX_PREPARE_COMMITMENTS }) }),
);

export type ThresholdMessage =
  | typeof thresholdCommit.request
  | typeof thresholdCommit.response
  | typeof thresholdSign.request
  | typeof thresholdSign.response
  | typeof thresholdPrepare.request
  | typeof thresholdPrepare.response;

/** `registry` plus the signing service's requests and replies. */
export function withThresholdMessages<M extends MessageType>(registry: MessageRegistry<M>): MessageRegistry<M | ThresholdMessage> {
  if (!(registry instanceof MessageRegistry)) throw new ThresholdError('BAD_ARGUMENT', 'withThresholdMessages needs a MessageRegistry');
  try {
    return registry.with(
      thresholdCommit.request,
      thresholdCommit.response,
      thresholdSign.request,
      thresholdSign.response,
      thresholdPrepare.request,
      thresholdPrepare.response,
    );
  } catch (err) {
    if (err instanceof WireError) throw new ThresholdError('BAD_ARGUMENT', `withThresholdMessages: ${err.message}`, undefined, { cause: err });
    throw err;
  }
}
