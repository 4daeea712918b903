/** Text forms of keys and peer ids for files, logs and screens. */
import { IdentityError } from './errors.js';
import { PEER_ID_LENGTH } from './keys.js';

/** Lowercase hex of `bytes` (the form identity.json and logs use). */
export function toHex(bytes: Uint8Array): string {
  if (!(bytes instanceof Uint8Array)) throw new IdentityError('BAD_ARGUMENT', 'toHex: bytes must be a Uint8Array');
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('hex');
}

/** The first 8 hex characters of a peer id: enough to tell boards apart on a screen, never for security. */
export function shortId(peerId: Uint8Array): string {
  if (!(peerId instanceof Uint8Array) || peerId.length !== PEER_ID_LENGTH) {
    throw new IdentityError('BAD_ARGUMENT', `shortId: a peer id must be ${PEER_ID_LENGTH} bytes`);
  }
  return toHex(peerId.subarray(0, 4));
}
