/**
 * The two-process exchange (not a test file itself): both processes run
 * exchange() against each other. Message seq of a stream has a size and
 * content derived from the stream's seed, so the receiver knows exactly what
 * must arrive: sequence numbers catch loss, duplication and reordering, and a
 * SHA-256 of each payload catches any changed byte.
 */
import { createCipheriv, createHash } from 'node:crypto';
import * as s from '../../src/schema/index.js';
import { coreMessages, defineMessage } from '../../src/wire/index.js';
import type { Messenger } from '../../src/transport/index.js';

export const barData = defineMessage(
  'bar.data',
  s.object({ seq: s.int({ min: 0 }), digest: s.bytes({ len: 32 }), data: s.bytes({ max: 1024 * 1024 }) }),
);
export const barRegistry = coreMessages.with(barData);

/** Sizes from 0 to several hundred KiB, with the fragment boundaries among them. */
const EDGES = [0, 1, 65533, 65534, 65535, 65536, 131068, 131069];

export function sizeOf(seed: number, seq: number): number {
  // A small integer hash (multiply, xor-shift) of (seed, seq), kept unsigned.
  let x = (Math.imul(seed ^ seq, 2654435761) + seq) >>> 0;
  x = Math.imul(x ^ (x >>> 15), 2246822519) >>> 0;
  x = (x ^ (x >>> 13)) >>> 0;
  if (seq % 199 === 0) return 65_534 + (x % 400_000); // fragmented, up to ~455 KiB
  if (seq % 29 === 0) return x % 65_536;
  if (seq % 500 < EDGES.length) return EDGES[seq % 500] as number;
  return x % 2048;
}

/** Deterministic pseudo-random bytes: ChaCha20 keystream keyed by (seed, seq). */
export function payload(seed: number, seq: number): Buffer {
  const key = createHash('sha256').update(`bar/${seed}/${seq}`).digest();
  const cipher = createCipheriv('chacha20', key, Buffer.alloc(16));
  return cipher.update(Buffer.alloc(sizeOf(seed, seq)));
}

function sha256(data: Uint8Array): Buffer {
  return createHash('sha256').update(data).digest();
}

export interface ExchangeResult {
  readonly sent: number;
  readonly received: number;
  readonly bytesReceived: number;
  /** The first few problems; empty when every message arrived once, in order, intact. */
  readonly errors: string[];
}

/**
 * Sends `count` messages of stream `ourSeed` to `peer` while checking the
 * `count` messages of stream `theirSeed` that arrive; resolves when both are done.
 */
export function exchange(messenger: Messenger, peer: Uint8Array, ourSeed: number, theirSeed: number, count: number): Promise<ExchangeResult> {
  const errors: string[] = [];
  let received = 0;
  let bytesReceived = 0;
  let doneReceiving: () => void = () => {};
  const receivedAll = new Promise<void>((resolve) => (doneReceiving = resolve));
  messenger.handle(barData, ({ body }) => {
    const expected = payload(theirSeed, received);
    if (body.seq !== received) errors.push(`expected seq ${received}, got ${body.seq}`);
    else if (!sha256(body.data).equals(body.digest)) errors.push(`seq ${body.seq}: the payload does not match its digest`);
    else if (!sha256(expected).equals(body.digest)) errors.push(`seq ${body.seq}: not the payload that was planned`);
    received += 1;
    bytesReceived += body.data.length;
    if (received === count) doneReceiving();
    if (errors.length > 10) errors.length = 10;
  });
  const sending = (async () => {
    for (let seq = 0; seq < count; seq++) {
      const data = payload(ourSeed, seq);
      await messenger.send(peer, barData, { seq, digest: sha256(data), data });
    }
  })();
  return Promise.all([sending, receivedAll]).then(() => ({ sent: count, received, bytesReceived, errors }));
}
