/**
 * A Groth16 proof on the wire: canonical CBOR of its compressed points (points.ts),
 *   { "v": 1, "a": bstr 32, "b": bstr 64, "c": bstr 32 }            (encodeProof, 142 bytes)
 * and a proof with its public signals, each a 32-byte big-endian field element,
 *   { "v": 1, "a": …, "b": …, "c": …, "s": [bstr 32, …] }           (encodeProofResult)
 * Decoding is strict: canonical bytes only, exactly these keys, exact lengths, points on the
 * curve and in the subgroup, signals below r. Every failure is a ZkpError (MALFORMED,
 * BAD_POINT, NOT_IN_FIELD) carrying the wire error as its cause.
 */
import { decodeCanonical, encodeCanonical, WireError } from '../wire/index.js';
import { ZkpError } from './errors.js';
import { fieldFromBytes, fieldToBytes } from './field.js';
import { compressG1, compressG2, decompressG1, decompressG2, G1_BYTES, G2_BYTES, markChecked } from './points.js';
import type { Groth16Proof, ProofResult } from './proof.js';

export const PROOF_CODEC_VERSION = 1;
/** More public signals than any of our circuits has; a bound for decoding untrusted bytes. */
export const MAX_SIGNALS = 16;
/** Large enough for a proof with MAX_SIGNALS signals; anything longer is refused before decoding. */
const MAX_BYTES = 160 + MAX_SIGNALS * 34;

const LIMITS = { maxBytes: MAX_BYTES, maxDepth: 2, maxItems: MAX_SIGNALS, maxStringBytes: G2_BYTES, allowedTags: new Set<number>() };

function proofFields(proof: Groth16Proof): { v: number; a: Uint8Array; b: Uint8Array; c: Uint8Array } {
  if (typeof proof !== 'object' || proof === null) throw new ZkpError('ARGUMENT', 'proof must be a Groth16Proof');
  return { v: PROOF_CODEC_VERSION, a: compressG1(proof.a), b: compressG2(proof.b), c: compressG1(proof.c) };
}

export function encodeProof(proof: Groth16Proof): Uint8Array {
  return encodeCanonical(proofFields(proof));
}

export function encodeProofResult(result: ProofResult): Uint8Array {
  if (typeof result !== 'object' || result === null || !Array.isArray(result.publicSignals)) {
    throw new ZkpError('ARGUMENT', 'expected { proof, publicSignals }');
  }
  if (result.publicSignals.length > MAX_SIGNALS) throw new ZkpError('ARGUMENT', `at most ${MAX_SIGNALS} public signals`);
  return encodeCanonical({ ...proofFields(result.proof), s: result.publicSignals.map((x) => fieldToBytes(x)) });
}

function decodeMap(bytes: Uint8Array, keys: readonly string[]): Record<string, unknown> {
  if (!(bytes instanceof Uint8Array)) throw new ZkpError('ARGUMENT', 'expected the bytes of an encoded proof');
  let v: unknown;
  try {
    v = decodeCanonical(bytes, LIMITS);
  } catch (err) {
    if (err instanceof WireError) throw new ZkpError('MALFORMED', `not a canonical encoded proof (${err.code})`, { cause: err });
    throw err;
  }
  if (typeof v !== 'object' || v === null || Array.isArray(v) || v instanceof Uint8Array) throw new ZkpError('MALFORMED', 'an encoded proof is a map');
  const o = v as Record<string, unknown>;
  const have = Object.keys(o).sort();
  const want = [...keys].sort();
  if (have.length !== want.length || have.some((k, i) => k !== want[i])) {
    throw new ZkpError('MALFORMED', `an encoded proof has exactly the keys ${want.join(', ')}`);
  }
  if (o.v !== PROOF_CODEC_VERSION) throw new ZkpError('MALFORMED', `unknown proof encoding version ${String(o.v)}`);
  return o;
}

function bytesOf(v: unknown, n: number, what: string): Uint8Array {
  if (!(v instanceof Uint8Array) || v.length !== n) throw new ZkpError('MALFORMED', `${what} must be a ${n}-byte string`);
  return v;
}

function proofOf(o: Record<string, unknown>): Groth16Proof {
  return markChecked({
    a: decompressG1(bytesOf(o.a, G1_BYTES, 'a'), 'proof.a'),
    b: decompressG2(bytesOf(o.b, G2_BYTES, 'b'), 'proof.b'),
    c: decompressG1(bytesOf(o.c, G1_BYTES, 'c'), 'proof.c'),
  });
}

export function decodeProof(bytes: Uint8Array): Groth16Proof {
  return proofOf(decodeMap(bytes, ['v', 'a', 'b', 'c']));
}

export function decodeProofResult(bytes: Uint8Array): ProofResult {
  const o = decodeMap(bytes, ['v', 'a', 'b', 'c', 's']);
  if (!Array.isArray(o.s)) throw new ZkpError('MALFORMED', 's must be an array of public signals');
  const publicSignals = o.s.map((x, i) => fieldFromBytes(bytesOf(x, 32, `signal ${i}`), `signal ${i}`));
  return { proof: proofOf(o), publicSignals };
}
