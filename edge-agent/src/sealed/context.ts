/**
 * The bytes that bind a ciphertext to its place: canonical CBOR arrays that
 * start with a domain label, so that an attribute blob, a wrapped key and a
 * stored entry can never be taken for one another, nor moved to another
 * record, state, attribute, member or entry key.
 */
import { encodeCanonical } from '../wire/index.js';

export const ATTRIBUTE_LABEL = 'edge-agent/sealed/attribute/v1';
export const WRAP_LABEL = 'edge-agent/sealed/wrap/v1';
export const KEY_CHECK_LABEL = 'edge-agent/sealed/key-check/v1';
export const STATE_LABEL = 'edge-agent/sealed/state/v1';
export const STORAGE_LABEL = 'edge-agent/sealed/storage/v1';

/** AAD of an attribute blob: the record, the state that made its key, and its name. */
export function attributeAad(record: Uint8Array, keyState: number, attribute: string): Uint8Array {
  return encodeCanonical([ATTRIBUTE_LABEL, record, keyState, attribute]);
}

/** HKDF info (and AEAD AAD) of a wrapped key: record, key state, attribute and the member it is for. */
export function wrapInfo(record: Uint8Array, keyState: number, attribute: string, member: string): Uint8Array {
  return encodeCanonical([WRAP_LABEL, record, keyState, attribute, member]);
}

/** What a key check hashes: it lets a reader tell a genuine key from a forged wrap. */
export function keyCheckInput(record: Uint8Array, keyState: number, attribute: string, key: Uint8Array): Uint8Array {
  return encodeCanonical([KEY_CHECK_LABEL, record, keyState, attribute, key]);
}

/** HKDF info of one stored entry's key, and the AAD of its ciphertext. */
export function storageInfo(record: Uint8Array, epoch: number, entryKey: string): Uint8Array {
  return encodeCanonical([STORAGE_LABEL, record, epoch, entryKey]);
}
