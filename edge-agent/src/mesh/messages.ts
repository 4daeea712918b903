/**
 * What the overlay says over a channel. Gossip frames travel in batches (one
 * message per neighbour per flush, not one per event); a new link opens with
 * one digest each way, and only a side whose digest differs from the one it
 * received sends its catch-up.
 */
import * as s from '../schema/index.js';
import { MAX_FRAME_BYTES } from '../overlay/index.js';
import { MessageRegistry, WireError, defineMessage, type MessageType } from '../wire/index.js';
import { MeshError } from './errors.js';

/** Frames per message: a batch stays well under the channel's message bound (256 × 512 B = 128 KiB). */
export const MAX_BATCH = 256;

const frames = s.array(s.bytes({ min: 1, max: MAX_FRAME_BYTES }), { max: MAX_BATCH });

/** Gossip events, flooded. */
export const overlayEvents = defineMessage('overlay/events', s.object({ frames }));

/**
 * The sender's table digest (EdgeTable.digest): at link-up without the link's
 * own two reports (linkUp true), and periodically of the whole table
 * (anti-entropy, linkUp false).
 */
export const overlayDigest = defineMessage(
  'overlay/digest',
  s.object({ count: s.int({ min: 0 }), xorHi: s.int({ min: 0, max: 0xffffffff }), xorLo: s.int({ min: 0, max: 0xffffffff }), linkUp: s.bool() }),
);

/** Part of a catch-up: every report the sender holds, in batches. */
export const overlayCatchUp = defineMessage('overlay/catch-up', s.object({ frames }));

export type OverlayMessage = typeof overlayEvents | typeof overlayDigest | typeof overlayCatchUp;

/** `registry` plus the overlay's messages, for the Messenger every agent runs. */
export function withOverlayMessages<M extends MessageType>(registry: MessageRegistry<M>): MessageRegistry<M | OverlayMessage> {
  if (!(registry instanceof MessageRegistry)) throw new MeshError('BAD_ARGUMENT', 'withOverlayMessages needs a MessageRegistry.');
  try {
    return registry.with(overlayEvents, overlayDigest, overlayCatchUp);
  } catch (err) {
    if (err instanceof WireError) throw new MeshError('BAD_ARGUMENT', `withOverlayMessages: ${err.message}`, { cause: err });
    throw err;
  }
}
