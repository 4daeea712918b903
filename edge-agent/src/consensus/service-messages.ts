/**
 * PBFT over the secure channels: one one-way message, 'consensus/pbft',
 * carrying a core frame for one group (sessionId names the group, so one
 * Messenger can serve several). The frame is decoded and checked by the core;
 * the channel says who sent it.
 */
import { createHash } from 'node:crypto';
import * as s from '../schema/index.js';
import { defineMessage, MessageRegistry, WireError, type MessageType } from '../wire/index.js';
import { ConsensusError } from './errors.js';

/** Largest frame carried (a state transfer carries the whole snapshot). */
export const MAX_FRAME_BYTES = 1 << 20;

export const consensusFrame = defineMessage('consensus/pbft', s.object({ sessionId: s.bytes({ min: 16, max: 64 }), frame: s.bytes({ max: MAX_FRAME_BYTES }) }));

/**
 * Replies travel to clients under a session id of their own, derived from the group's: a node that is both a
 * replica and a client of the group (a committee member ordering an operation) routes each to its own shell.
 */
export function replyRoute(groupId: Uint8Array): Uint8Array {
  return new Uint8Array(createHash('sha256').update('edge-agent/consensus/replies/v1').update(groupId).digest().subarray(0, 16));
}

/** `registry` plus the consensus message. */
export function withConsensusMessages<M extends MessageType>(registry: MessageRegistry<M>): MessageRegistry<M | typeof consensusFrame> {
  if (!(registry instanceof MessageRegistry)) throw new ConsensusError('BAD_ARGUMENT', 'withConsensusMessages needs a MessageRegistry');
  try {
    return registry.with(consensusFrame);
  } catch (err) {
    if (err instanceof WireError) throw new ConsensusError('BAD_ARGUMENT', `withConsensusMessages: ${err.message}`, { cause: err });
    throw err;
  }
}
