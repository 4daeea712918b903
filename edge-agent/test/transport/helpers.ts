/** Shared test helpers for the transport tests (not a test file itself). */
import { randomBytes } from 'node:crypto';
import { secp256k1 } from '@noble/curves/secp256k1.js';
import { initiator, openSession, responder } from '../../src/transport/index.js';
import type { HandshakeResult, Session } from '../../src/transport/index.js';

export function hex(value: string): Uint8Array {
  return Uint8Array.from(Buffer.from(value, 'hex'));
}

export function toHex(value: Uint8Array): string {
  return Buffer.from(value.buffer, value.byteOffset, value.byteLength).toString('hex');
}

/** Plain Uint8Array copy, so deepEqual does not trip over Buffer vs Uint8Array. */
export function plain(value: Uint8Array): Uint8Array {
  return Uint8Array.from(value);
}

export function randomStatic(): { secret: Uint8Array; public: Uint8Array } {
  const secret = secp256k1.utils.randomSecretKey();
  return { secret, public: secp256k1.getPublicKey(secret, true) };
}

export interface Pair {
  readonly initiator: HandshakeResult;
  readonly responder: HandshakeResult;
  readonly initiatorStatic: Uint8Array;
  readonly responderStatic: Uint8Array;
}

/** Runs a full handshake between two random identities. */
export function handshakePair(): Pair {
  const a = randomStatic();
  const b = randomStatic();
  const i = initiator({ localStatic: a.secret, remoteStatic: b.public });
  const r = responder({ localStatic: b.secret });
  const actThree = i.actTwo(r.actOne(i.actOne()));
  const responderResult = r.actThree(actThree);
  return {
    initiator: i.result(),
    responder: responderResult,
    initiatorStatic: a.public,
    responderStatic: b.public,
  };
}

/** Both ends of a fresh session: a.encryptor feeds b.decoder and vice versa. */
export function sessionPair(): { a: Session; b: Session } {
  const pair = handshakePair();
  return { a: openSession(pair.initiator), b: openSession(pair.responder) };
}

export function concat(parts: readonly Uint8Array[]): Uint8Array {
  return plain(Buffer.concat(parts));
}

/** Splits `data` into chunks whose sizes cycle through `sizes` (each >= 1). */
export function chunk(data: Uint8Array, sizes: readonly number[]): Uint8Array[] {
  const out: Uint8Array[] = [];
  let offset = 0;
  let i = 0;
  while (offset < data.length) {
    const size = sizes.length === 0 ? data.length : (sizes[i % sizes.length] ?? 1);
    out.push(data.subarray(offset, offset + size));
    offset += size;
    i += 1;
  }
  return out;
}

export function randomMessage(size: number): Uint8Array {
  return plain(randomBytes(size));
}
