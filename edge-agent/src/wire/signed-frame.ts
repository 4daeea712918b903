/**
 * The outer form of a message signed by its sender: canonical CBOR {b: body
 * bytes, s: signature}. The body is kept as bytes, so what was signed is
 * exactly what is checked, whatever the decoder would make of it. Decoding
 * never throws on input: anything not exactly this shape is 'malformed'.
 */
import { encodeCanonical } from './canonical.js';
import { decodeCanonical } from './decode.js';

/**
 * Longest signature a frame may carry: Ed25519 and compact ECDSA take 64; a signature that
 * carries its key's certificate (consensus keys: key 32 + certificate 64 + signature 64) 160.
 */
export const MAX_FRAME_SIGNATURE_BYTES = 192;

export function encodeSignedFrame(body: Uint8Array, signature: Uint8Array): Uint8Array {
  return encodeCanonical({ b: body, s: signature });
}

export function decodeSignedFrame(bytes: Uint8Array, maxBytes: number): { readonly body: Uint8Array; readonly signature: Uint8Array } | 'malformed' | 'oversized' {
  if (!(bytes instanceof Uint8Array)) return 'malformed';
  if (bytes.length > maxBytes) return 'oversized';
  let v: unknown;
  try {
    v = decodeCanonical(bytes, { maxBytes, maxDepth: 1, maxItems: 2, maxStringBytes: maxBytes });
  } catch {
    return 'malformed';
  }
  if (typeof v !== 'object' || v === null || Array.isArray(v) || v instanceof Uint8Array) return 'malformed';
  const o = v as Record<string, unknown>;
  const keys = Object.keys(o);
  if (keys.length !== 2 || !('b' in o) || !('s' in o)) return 'malformed';
  const { b, s } = o;
  if (!(b instanceof Uint8Array) || !(s instanceof Uint8Array) || s.length > MAX_FRAME_SIGNATURE_BYTES) return 'malformed';
  return { body: b, signature: s };
}
