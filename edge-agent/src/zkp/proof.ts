/**
 * A Groth16 proof over BN254 as affine points with bigint coordinates, independent of any
 * backend; and the conversions to and from snarkjs's JSON (decimal strings, projective
 * coordinates with z = 1), which its CLI reads as proof.json and public.json.
 */
import { ZkpError } from './errors.js';
import { assertField, fieldFromDecimal } from './field.js';

/** A G1 point (x, y) over Fp. */
export interface G1Affine {
  readonly x: bigint;
  readonly y: bigint;
}
/** An Fp2 element c0 + c1·u. */
export type Fp2Pair = readonly [c0: bigint, c1: bigint];
/** A G2 point (x, y) over Fp2. */
export interface G2Affine {
  readonly x: Fp2Pair;
  readonly y: Fp2Pair;
}
export interface Groth16Proof {
  readonly a: G1Affine;
  readonly b: G2Affine;
  readonly c: G1Affine;
}
/** What a prover returns: the proof and the circuit's public signals (outputs first, then public inputs). */
export interface ProofResult {
  readonly proof: Groth16Proof;
  readonly publicSignals: readonly bigint[];
}

/** snarkjs's proof JSON. */
export interface SnarkjsProof {
  pi_a: string[];
  pi_b: string[][];
  pi_c: string[];
  protocol: string;
  curve: string;
}

// Coordinates are base-field elements; any decimal < 2^256 is syntactically accepted here,
// the curve checks (codec, verifier) reject anything off the curve.
const coord = (s: unknown, what: string): bigint => {
  if (typeof s !== 'string' || !/^(0|[1-9][0-9]{0,77})$/.test(s)) throw new ZkpError('ARGUMENT', `${what} must be a decimal string`);
  return BigInt(s);
};

function affineG1(v: unknown, what: string): G1Affine {
  if (!Array.isArray(v) || v.length !== 3 || v[2] !== '1') throw new ZkpError('ARGUMENT', `${what} must be [x, y, "1"]`);
  return { x: coord(v[0], `${what}.x`), y: coord(v[1], `${what}.y`) };
}

function affineG2(v: unknown, what: string): G2Affine {
  const pair = (p: unknown, w: string): Fp2Pair => {
    if (!Array.isArray(p) || p.length !== 2) throw new ZkpError('ARGUMENT', `${w} must be [c0, c1]`);
    return [coord(p[0], `${w}.c0`), coord(p[1], `${w}.c1`)];
  };
  if (!Array.isArray(v) || v.length !== 3) throw new ZkpError('ARGUMENT', `${what} must be [x, y, ["1", "0"]]`);
  const z = v[2] as unknown;
  if (!Array.isArray(z) || z[0] !== '1' || z[1] !== '0') throw new ZkpError('ARGUMENT', `${what} must be affine (z = 1)`);
  return { x: pair(v[0], `${what}.x`), y: pair(v[1], `${what}.y`) };
}

export function fromSnarkjsProof(p: unknown): Groth16Proof {
  if (typeof p !== 'object' || p === null) throw new ZkpError('ARGUMENT', 'a snarkjs proof must be an object');
  const o = p as Partial<SnarkjsProof>;
  if (o.protocol !== undefined && o.protocol !== 'groth16') throw new ZkpError('ARGUMENT', 'not a groth16 proof');
  return { a: affineG1(o.pi_a, 'pi_a'), b: affineG2(o.pi_b, 'pi_b'), c: affineG1(o.pi_c, 'pi_c') };
}

export function toSnarkjsProof(p: Groth16Proof): SnarkjsProof {
  const s = (x: bigint): string => x.toString(10);
  return {
    pi_a: [s(p.a.x), s(p.a.y), '1'],
    pi_b: [
      [s(p.b.x[0]), s(p.b.x[1])],
      [s(p.b.y[0]), s(p.b.y[1])],
      ['1', '0'],
    ],
    pi_c: [s(p.c.x), s(p.c.y), '1'],
    protocol: 'groth16',
    curve: 'bn128',
  };
}

export function fromSnarkjsSignals(v: unknown): bigint[] {
  if (!Array.isArray(v)) throw new ZkpError('ARGUMENT', 'public signals must be an array');
  return v.map((s, i) => fieldFromDecimal(s, `public signal ${i}`));
}

export function toSnarkjsSignals(v: readonly bigint[]): string[] {
  if (!Array.isArray(v)) throw new ZkpError('ARGUMENT', 'public signals must be an array');
  return v.map((x, i) => assertField(x, `public signal ${i}`).toString(10));
}
