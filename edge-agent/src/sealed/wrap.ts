/**
 * An attribute key wrapped for one member (ECIES-style): a fresh ephemeral
 * secp256k1 key agrees with the member's identity key (ECDH, x coordinate),
 * HKDF-SHA256 with a fresh random salt and info = canonical CBOR of (record,
 * key state, attribute, member) gives the key-encryption key, and AES-256-GCM
 * seals the attribute key with that same info as AAD. Only the holder of the
 * member's secret key can unwrap; a wrap moved to another context fails.
 */
import * as s from '../schema/index.js';
import { PUBLIC_KEY_LENGTH, SECRET_KEY_LENGTH, isValidPublicKey, peerIdOf, toHex } from '../identity/index.js';
import { decodeCanonical, encodeCanonical, WireError } from '../wire/index.js';
import { wrapInfo } from './context.js';
import { SealedError } from './errors.js';
import { MAX_STATE_NUMBER, MEMBER_PATTERN, NAME_PATTERN, RECORD_ID_BYTES, requireBytes, requireMember, requireName, requireStateNumber } from './limits.js';
import { KEY_BYTES, SEAL_OVERHEAD, ephemeralAgreement, freshBytes, hkdf, open, seal, staticAgreement, wipe } from './primitives.js';

export const SALT_BYTES = 32;
const BOX_BYTES = KEY_BYTES + SEAL_OVERHEAD;

export interface WrappedKey {
  readonly record: Uint8Array;
  /** The state that made the attribute key (the key is carried unchanged to later states). */
  readonly keyState: number;
  readonly attribute: string;
  /** Hex peer id of the member this is for. */
  readonly member: string;
  readonly ephemeral: Uint8Array;
  readonly salt: Uint8Array;
  /** nonce || AES-256-GCM(attribute key) || tag. */
  readonly box: Uint8Array;
}

export const wrappedKeySchema: s.Schema<WrappedKey> = s.object({
  record: s.bytes({ len: RECORD_ID_BYTES }),
  keyState: s.int({ min: 0, max: MAX_STATE_NUMBER }),
  attribute: s.text({ min: 1, max: 64, pattern: NAME_PATTERN }),
  member: s.text({ min: 64, max: 64, pattern: MEMBER_PATTERN }),
  ephemeral: s.bytes({ len: PUBLIC_KEY_LENGTH }),
  salt: s.bytes({ len: SALT_BYTES }),
  box: s.bytes({ len: BOX_BYTES }),
});

/** Wraps `key` for the member whose identity public key is `publicKey`. */
export function wrapKey(key: Uint8Array, publicKey: Uint8Array, record: Uint8Array, keyState: number, attribute: string): WrappedKey {
  requireBytes(key, KEY_BYTES, 'attribute key');
  if (!isValidPublicKey(publicKey)) throw new SealedError('BAD_ARGUMENT', 'member public key must be a 33-byte compressed secp256k1 point');
  requireBytes(record, RECORD_ID_BYTES, 'record id');
  requireStateNumber(keyState, 'key state');
  requireName(attribute, 'attribute name');
  const member = toHex(peerIdOf(publicKey));
  const info = wrapInfo(record, keyState, attribute, member);
  const salt = freshBytes(SALT_BYTES);
  const { ephemeral, shared } = ephemeralAgreement(publicKey);
  const kek = hkdf(shared, salt, info);
  try {
    return { record, keyState, attribute, member, ephemeral, salt, box: seal(kek, key, info) };
  } finally {
    wipe(shared, kek);
  }
}

/** Unwraps with the member's secret key; TAMPERED if the wrap is not for this key or context. The caller wipes the result. */
export function unwrapKey(wrapped: WrappedKey, secretKey: Uint8Array): Uint8Array {
  const w = parseWrapped(wrapped);
  requireBytes(secretKey, SECRET_KEY_LENGTH, 'secret key');
  const info = wrapInfo(w.record, w.keyState, w.attribute, w.member);
  const shared = staticAgreement(secretKey, w.ephemeral);
  const kek = hkdf(shared, w.salt, info);
  try {
    return open(kek, w.box, info, `wrapped key for ${w.attribute}`);
  } finally {
    wipe(shared, kek);
  }
}

function parseWrapped(value: unknown): WrappedKey {
  try {
    return wrappedKeySchema.parse(value, 'wrapped key');
  } catch (err) {
    throw new SealedError('MALFORMED', err instanceof Error ? err.message : String(err), { cause: err });
  }
}

export function encodeWrappedKey(wrapped: WrappedKey): Uint8Array {
  return encodeCanonical(parseWrapped(wrapped));
}

/** Strict: canonical CBOR within tight bounds, then the schema; every failure is MALFORMED. */
export function decodeWrappedKey(bytes: Uint8Array): WrappedKey {
  if (!(bytes instanceof Uint8Array)) throw new SealedError('BAD_ARGUMENT', 'wrapped key bytes must be a Uint8Array');
  let value: unknown;
  try {
    value = decodeCanonical(bytes, { maxBytes: 1024, maxDepth: 2, maxItems: 16, maxStringBytes: 256 });
  } catch (err) {
    if (err instanceof WireError) throw new SealedError('MALFORMED', `wrapped key: ${err.message}`, { cause: err });
    throw err;
  }
  return parseWrapped(value);
}

/** The id a wrap is stored and asked for under. */
export function wrapId(record: Uint8Array, keyState: number, attribute: string, member: string): string {
  requireMember(member, 'member');
  return `${toHex(record)}/${keyState}/${attribute}/${member}`;
}
