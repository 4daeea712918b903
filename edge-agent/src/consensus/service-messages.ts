/**
 * PBFT over the secure channels: one one-way message, 'consensus/pbft',
 * carrying core frames for one group (sessionId names the group, so one
 * Messenger can serve several). Each frame is decoded and checked by the core;
 * the channel says who sent them. Frames for the same peer and group made in
 * the same turn of the event loop travel together (Outbox): a replica's replies
 * for a batch to a node holding many clients, a client node's requests, a
 * replica's votes for several slots. What a message costs (envelope, AEAD,
 * socket write, wake-up at the other end) is then paid per turn, not per frame.
 */
import { createHash } from 'node:crypto';
import * as s from '../schema/index.js';
import { defineMessage, MessageRegistry, WireError, type MessageType } from '../wire/index.js';
import { ConsensusError } from './errors.js';

/** Largest frame carried (a state transfer carries the whole snapshot). */
export const MAX_FRAME_BYTES = 1 << 20;

/** Most frames in one message, and the bytes after which an outbox sends what it holds. */
export const MAX_FRAMES_PER_MESSAGE = 1024;
export const OUTBOX_FLUSH_BYTES = 256 * 1024;

export const consensusFrame = defineMessage(
  'consensus/pbft',
  s.object({ sessionId: s.bytes({ min: 16, max: 64 }), frames: s.array(s.bytes({ max: MAX_FRAME_BYTES }), { min: 1, max: MAX_FRAMES_PER_MESSAGE }) }),
);

export type SendFrames = (peer: Uint8Array, sessionId: Uint8Array, frames: Uint8Array[]) => void;

interface Held {
  readonly frames: Uint8Array[];
  bytes: number;
}

/**
 * Holds frames per (peer, session) until the current turn's microtasks run, then hands each
 * group to `send` as one message. Peers and session ids are keyed by identity: callers pass
 * the same Uint8Array objects for the same peer (their rosters' entries).
 */
export class Outbox {
  readonly #send: SendFrames;
  readonly #held = new Map<Uint8Array, Map<Uint8Array, Held>>();
  #scheduled = false;

  constructor(send: SendFrames) {
    if (typeof send !== 'function') throw new ConsensusError('BAD_ARGUMENT', 'Outbox: send must be a function');
    this.#send = send;
  }

  push(peer: Uint8Array, sessionId: Uint8Array, frame: Uint8Array): void {
    let byPeer = this.#held.get(peer);
    if (byPeer === undefined) this.#held.set(peer, (byPeer = new Map()));
    let held = byPeer.get(sessionId);
    if (held === undefined) byPeer.set(sessionId, (held = { frames: [], bytes: 0 }));
    held.frames.push(frame);
    held.bytes += frame.length;
    if (held.frames.length >= MAX_FRAMES_PER_MESSAGE || held.bytes >= OUTBOX_FLUSH_BYTES) {
      byPeer.delete(sessionId);
      this.#send(peer, sessionId, held.frames);
    }
    if (!this.#scheduled) {
      this.#scheduled = true;
      queueMicrotask(() => this.flush());
    }
  }

  /** Sends everything held now. */
  flush(): void {
    this.#scheduled = false;
    const held = [...this.#held];
    this.#held.clear();
    for (const [peer, byPeer] of held) for (const [sessionId, h] of byPeer) this.#send(peer, sessionId, h.frames);
  }

  /** Drops what is held (the service stopped). */
  clear(): void {
    this.#held.clear();
  }
}

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
