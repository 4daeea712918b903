/**
 * One private attribute: its plaintext sealed under a fresh 256-bit key with
 * AES-256-GCM, bound (AAD) to its record, the state that made the key and its
 * name. The commitment is SHA-256 of the sealed blob; the key check lets a
 * reader recognise the genuine key before it touches the blob.
 */
import { attributeAad, keyCheckInput } from './context.js';
import { SealedError } from './errors.js';
import { RECORD_ID_BYTES, requireBytes, requireName, requirePlaintext, requireStateNumber } from './limits.js';
import { HASH_BYTES, KEY_BYTES, equalBytes, freshBytes, open, seal, sha256, wipe } from './primitives.js';

export interface SealedAttribute {
  /** The attribute key: the caller wraps it for each reader, then wipes it. */
  readonly key: Uint8Array;
  readonly blob: Uint8Array;
  readonly commitment: Uint8Array;
  readonly keyCheck: Uint8Array;
}

export function keyCheckOf(record: Uint8Array, keyState: number, attribute: string, key: Uint8Array): Uint8Array {
  const input = keyCheckInput(record, keyState, attribute, key);
  try {
    return sha256(input);
  } finally {
    wipe(input);
  }
}

/** Seals `plaintext` as attribute `attribute` of `record` under a key made in state `keyState`. */
export function sealAttribute(record: Uint8Array, keyState: number, attribute: string, plaintext: Uint8Array): SealedAttribute {
  requireBytes(record, RECORD_ID_BYTES, 'record id');
  requireStateNumber(keyState, 'key state');
  requireName(attribute, 'attribute name');
  requirePlaintext(plaintext, 'attribute plaintext');
  const key = freshBytes(KEY_BYTES);
  const blob = seal(key, plaintext, attributeAad(record, keyState, attribute));
  return { key, blob, commitment: sha256(blob), keyCheck: keyCheckOf(record, keyState, attribute, key) };
}

/** Throws BAD_COMMITMENT unless SHA-256(blob) is `commitment`. */
export function checkCommitment(blob: Uint8Array, commitment: Uint8Array): void {
  requireBytes(commitment, HASH_BYTES, 'commitment');
  if (!(blob instanceof Uint8Array)) throw new SealedError('BAD_ARGUMENT', 'blob must be a Uint8Array');
  if (!equalBytes(sha256(blob), commitment)) throw new SealedError('BAD_COMMITMENT', 'the blob does not hash to its commitment');
}

/** Opens an attribute blob with its key; checks the commitment and key check first. */
export function openAttribute(
  record: Uint8Array,
  keyState: number,
  attribute: string,
  key: Uint8Array,
  blob: Uint8Array,
  expected: { readonly commitment: Uint8Array; readonly keyCheck: Uint8Array },
): Uint8Array {
  requireBytes(record, RECORD_ID_BYTES, 'record id');
  requireStateNumber(keyState, 'key state');
  requireName(attribute, 'attribute name');
  requireBytes(key, KEY_BYTES, 'attribute key');
  checkCommitment(blob, expected.commitment);
  if (!equalBytes(keyCheckOf(record, keyState, attribute, key), expected.keyCheck)) {
    throw new SealedError('BAD_KEY', `attribute ${attribute}: the unwrapped key is not the one the state commits to`);
  }
  return open(key, blob, attributeAad(record, keyState, attribute), `attribute ${attribute}`);
}
