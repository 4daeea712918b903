/**
 * BN254 point checks and compression, on @noble/curves (which has the curve but, for want of
 * a standard, no byte encoding). Our compressed form, big-endian like EIP-196/197:
 *   G1: 32 bytes, x.   G2: 64 bytes, x.c1 || x.c0 (imaginary part first, as EIP-197).
 * p < 2^254 leaves the top two bits of the first byte free: bit 7 is reserved and must be 0
 * (the point at infinity never appears in a valid proof, so it has no encoding), bit 6 says
 * which square root y is: set when y is the larger one, y > p - y (for Fp2: compare c1, or
 * c0 when c1 = 0). Decoding is strict: one encoding per point, x < p, on the curve, in the
 * prime-order subgroup.
 */
import { bn254 } from '@noble/curves/bn254.js';
import { ZkpError } from './errors.js';
import type { Fp2Pair, G1Affine, G2Affine, Groth16Proof } from './proof.js';

const { Fp, Fp2 } = bn254.fields;
const P = Fp.ORDER;
const HALF = (P - 1n) / 2n;
const FLAG_RESERVED = 0x80;
const FLAG_Y_LARGE = 0x40;

export const G1_BYTES = 32;
export const G2_BYTES = 64;

type Fp2El = ReturnType<typeof Fp2.fromBigTuple>;

function coordOk(v: unknown): v is bigint {
  return typeof v === 'bigint' && v >= 0n && v < P;
}

function toBytes32(x: bigint, out: Uint8Array, at: number): void {
  let v = x;
  for (let i = 31; i >= 0; i--) {
    out[at + i] = Number(v & 0xffn);
    v >>= 8n;
  }
}

function fromBytes32(b: Uint8Array, at: number, mask: number): bigint {
  let v = BigInt(b[at]! & mask);
  for (let i = 1; i < 32; i++) v = (v << 8n) | BigInt(b[at + i]!);
  return v;
}

const fp2 = (c: Fp2Pair): Fp2El => Fp2.fromBigTuple([c[0], c[1]]);
const isLarge2 = (y: Fp2El): boolean => (y.c1 !== 0n ? y.c1 > HALF : y.c0 > HALF);

/** Throws BAD_POINT unless (x, y) is a G1 point other than infinity. */
export function assertG1(p: G1Affine, what = 'G1 point'): void {
  if (typeof p !== 'object' || p === null || !coordOk(p.x) || !coordOk(p.y)) {
    throw new ZkpError('BAD_POINT', `${what}: coordinates must be bigints in [0, p)`);
  }
  try {
    const pt = bn254.G1.Point.fromAffine({ x: p.x, y: p.y });
    if (pt.is0()) throw new Error('the point at infinity');
    pt.assertValidity();
  } catch (err) {
    throw new ZkpError('BAD_POINT', `${what} is not a point of G1`, { cause: err });
  }
}

/** Throws BAD_POINT unless (x, y) is a point of G2's prime-order subgroup other than infinity. */
export function assertG2(p: G2Affine, what = 'G2 point'): void {
  const pairOk = (c: unknown): c is Fp2Pair => Array.isArray(c) && c.length === 2 && coordOk(c[0]) && coordOk(c[1]);
  if (typeof p !== 'object' || p === null || !pairOk(p.x) || !pairOk(p.y)) {
    throw new ZkpError('BAD_POINT', `${what}: coordinates must be pairs of bigints in [0, p)`);
  }
  try {
    const pt = bn254.G2.Point.fromAffine({ x: fp2(p.x), y: fp2(p.y) });
    if (pt.is0()) throw new Error('the point at infinity');
    pt.assertValidity(); // on the twist and torsion-free (subgroup check)
  } catch (err) {
    throw new ZkpError('BAD_POINT', `${what} is not a point of G2's subgroup`, { cause: err });
  }
}

export function compressG1(p: G1Affine): Uint8Array {
  assertG1(p);
  const out = new Uint8Array(G1_BYTES);
  toBytes32(p.x, out, 0);
  if (p.y > HALF) out[0]! |= FLAG_Y_LARGE;
  return out;
}

export function decompressG1(b: Uint8Array, what = 'G1 point'): G1Affine {
  if (!(b instanceof Uint8Array) || b.length !== G1_BYTES) throw new ZkpError('MALFORMED', `${what} must be ${G1_BYTES} bytes`);
  if (b[0]! & FLAG_RESERVED) throw new ZkpError('BAD_POINT', `${what}: reserved flag bit set`);
  const x = fromBytes32(b, 0, 0x3f);
  if (x >= P) throw new ZkpError('BAD_POINT', `${what}: x is not below p`);
  const rhs = Fp.add(Fp.mul(Fp.sqr(x), x), bn254.G1.Point.CURVE().b);
  let y: bigint;
  try {
    y = Fp.sqrt(rhs);
  } catch (err) {
    throw new ZkpError('BAD_POINT', `${what}: x is not on the curve`, { cause: err });
  }
  if ((y > HALF) !== Boolean(b[0]! & FLAG_Y_LARGE)) y = Fp.neg(y);
  const p = { x, y };
  assertG1(p, what);
  return p;
}

export function compressG2(p: G2Affine): Uint8Array {
  assertG2(p);
  const out = new Uint8Array(G2_BYTES);
  toBytes32(p.x[1], out, 0);
  toBytes32(p.x[0], out, 32);
  if (isLarge2(fp2(p.y))) out[0]! |= FLAG_Y_LARGE;
  return out;
}

export function decompressG2(b: Uint8Array, what = 'G2 point'): G2Affine {
  if (!(b instanceof Uint8Array) || b.length !== G2_BYTES) throw new ZkpError('MALFORMED', `${what} must be ${G2_BYTES} bytes`);
  if (b[0]! & FLAG_RESERVED) throw new ZkpError('BAD_POINT', `${what}: reserved flag bit set`);
  const c1 = fromBytes32(b, 0, 0x3f);
  const c0 = fromBytes32(b, 32, 0xff);
  if (c1 >= P || c0 >= P) throw new ZkpError('BAD_POINT', `${what}: x is not below p`);
  const x = Fp2.fromBigTuple([c0, c1]);
  const rhs = Fp2.add(Fp2.mul(Fp2.sqr(x), x), bn254.G2.Point.CURVE().b);
  let y: Fp2El;
  try {
    y = Fp2.sqrt(rhs);
  } catch (err) {
    throw new ZkpError('BAD_POINT', `${what}: x is not on the twist`, { cause: err });
  }
  if (isLarge2(y) !== Boolean(b[0]! & FLAG_Y_LARGE)) y = Fp2.neg(y);
  const p: G2Affine = { x: [c0, c1], y: [y.c0, y.c1] };
  assertG2(p, what);
  return p;
}

/**
 * Proofs whose points were already checked (decoded by the codec, or made by our prover):
 * frozen, so they cannot change after the check, and remembered, so the verifier does not
 * repeat the G2 subgroup check (the costliest part of it in JavaScript).
 */
const checked = new WeakSet<object>();

export function markChecked(proof: Groth16Proof): Groth16Proof {
  Object.freeze(proof.a);
  Object.freeze(proof.b.x);
  Object.freeze(proof.b.y);
  Object.freeze(proof.b);
  Object.freeze(proof.c);
  Object.freeze(proof);
  checked.add(proof);
  return proof;
}

/** Throws BAD_POINT unless every point of the proof is valid (free for a proof already checked). */
export function assertProofPoints(proof: Groth16Proof): void {
  if (checked.has(proof)) return;
  assertG1(proof.a, 'proof.a');
  assertG2(proof.b, 'proof.b');
  assertG1(proof.c, 'proof.c');
}
