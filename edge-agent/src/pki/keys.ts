/**
 * Subject keys: Ed25519 (raw 32 bytes) or P-256 (SEC1 point, compressed or not), turned into a
 * proper SubjectPublicKeyInfo (RFC 8410 / RFC 5480) and back, plus the RFC 5280 key identifier.
 */
import { ECDH, createHash, createPublicKey, type KeyObject } from 'node:crypto';
import { AsnConvert } from '@peculiar/asn1-schema';
import { AlgorithmIdentifier, SubjectPublicKeyInfo } from '@peculiar/asn1-x509';
import { bytesOf, toArrayBuffer } from './der.js';
import { PkiError, argument } from './errors.js';
import { OID_EC_PUBLIC_KEY, OID_ED25519 } from './oids.js';

export type SubjectKey =
  | { readonly kind: 'ed25519'; readonly raw: Uint8Array }
  /** Always kept uncompressed (65 bytes, 0x04 ‖ x ‖ y): RFC 5480 makes that the form every client must read. */
  | { readonly kind: 'p256'; readonly raw: Uint8Array };

/** DER of the namedCurve parameter OBJECT IDENTIFIER prime256v1 (1.2.840.10045.3.1.7), RFC 5480 §2.1.1.1. */
const P256_PARAMS_DER = Uint8Array.of(0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07);

function p256Params(): ArrayBuffer {
  return toArrayBuffer(P256_PARAMS_DER);
}

function checkP256(point: Uint8Array): Uint8Array {
  try {
    // convertKey decompresses and checks the point is on the curve.
    return new Uint8Array(ECDH.convertKey(point, 'prime256v1', undefined, undefined, 'uncompressed') as Buffer);
  } catch (err) {
    throw new PkiError('ARGUMENT', 'not a valid P-256 point', { cause: err });
  }
}

/** A subject key from raw bytes: 32 = Ed25519, 65 (0x04…) or 33 (0x02/0x03…) = P-256. */
export function subjectKeyFromRaw(raw: Uint8Array): SubjectKey {
  if (!(raw instanceof Uint8Array)) argument('a subject key must be a Uint8Array');
  if (raw.length === 32) return { kind: 'ed25519', raw: new Uint8Array(raw) };
  if ((raw.length === 65 && raw[0] === 4) || (raw.length === 33 && (raw[0] === 2 || raw[0] === 3))) return { kind: 'p256', raw: checkP256(raw) };
  throw new PkiError('UNSUPPORTED_ALGORITHM', 'a subject key must be Ed25519 (32 bytes) or a P-256 point (33 or 65 bytes)');
}

/** A subject key from a node:crypto public (or private) KeyObject. */
export function subjectKeyFromKeyObject(key: KeyObject): SubjectKey {
  if (typeof key !== 'object' || key === null || typeof (key as KeyObject).export !== 'function') argument('expected a node:crypto KeyObject');
  const pub = key.type === 'private' ? createPublicKey(key) : key;
  const der = new Uint8Array(pub.export({ format: 'der', type: 'spki' }));
  return subjectKeyFromSpki(AsnConvert.parse(der, SubjectPublicKeyInfo));
}

export function spkiOf(key: SubjectKey): SubjectPublicKeyInfo {
  if (key.kind === 'ed25519') {
    return new SubjectPublicKeyInfo({ algorithm: new AlgorithmIdentifier({ algorithm: OID_ED25519 }), subjectPublicKey: toArrayBuffer(key.raw) });
  }
  return new SubjectPublicKeyInfo({
    algorithm: new AlgorithmIdentifier({ algorithm: OID_EC_PUBLIC_KEY, parameters: p256Params() }),
    subjectPublicKey: toArrayBuffer(key.raw),
  });
}

export function spkiDer(key: SubjectKey): Uint8Array {
  return bytesOf(AsnConvert.serialize(spkiOf(key)));
}

/** Reads an SPKI, accepting only Ed25519 (absent parameters) and P-256 id-ecPublicKey. */
export function subjectKeyFromSpki(spki: SubjectPublicKeyInfo): SubjectKey {
  const alg = spki.algorithm;
  const bits = bytesOf(spki.subjectPublicKey);
  if (alg.algorithm === OID_ED25519) {
    if (alg.parameters !== undefined && alg.parameters !== null) throw new PkiError('MALFORMED', 'Ed25519 keys have absent parameters (RFC 8410)');
    if (bits.length !== 32) throw new PkiError('MALFORMED', 'an Ed25519 key is 32 bytes');
    return { kind: 'ed25519', raw: bits };
  }
  if (alg.algorithm === OID_EC_PUBLIC_KEY) {
    const params = alg.parameters instanceof ArrayBuffer ? bytesOf(alg.parameters) : undefined;
    if (params === undefined || Buffer.compare(params, bytesOf(p256Params())) !== 0) throw new PkiError('UNSUPPORTED_ALGORITHM', 'only the P-256 curve is accepted for EC keys');
    if (!((bits.length === 65 && bits[0] === 4) || (bits.length === 33 && (bits[0] === 2 || bits[0] === 3)))) throw new PkiError('MALFORMED', 'not a SEC1 P-256 point');
    try {
      return { kind: 'p256', raw: checkP256(bits) };
    } catch (err) {
      throw new PkiError('MALFORMED', 'the P-256 point is not on the curve', { cause: err });
    }
  }
  throw new PkiError('UNSUPPORTED_ALGORITHM', `unsupported key algorithm ${alg.algorithm}`);
}

/** A node:crypto public key for verification. */
export function publicKeyObject(key: SubjectKey): KeyObject {
  try {
    return createPublicKey({ key: Buffer.from(spkiDer(key)), format: 'der', type: 'spki' });
  } catch (err) {
    throw new PkiError('MALFORMED', 'the public key is not accepted by OpenSSL', { cause: err });
  }
}

/** RFC 5280 §4.2.1.2 method 1: SHA-1 of the subjectPublicKey BIT STRING's value (not an integrity use of SHA-1). */
export function keyIdentifier(key: SubjectKey): Uint8Array {
  return new Uint8Array(createHash('sha1').update(key.raw).digest());
}

export function sameKey(a: SubjectKey, b: SubjectKey): boolean {
  return a.kind === b.kind && Buffer.compare(a.raw, b.raw) === 0;
}
