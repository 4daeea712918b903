import { sha512 } from '@noble/hashes/sha2.js';
import { mulAddUnsafe } from '@noble/curves/abstract/curve.js';
import { Point, POINT_BYTES, SCALAR_BYTES, ORDER, Fn, type EdPoint, scalarFromWide } from './vss.js';

/**
 * Schnorr proof of knowledge of a_0 for the DKG's round 1 (FROST KeyGen, Komlo–Goldberg
 * 2020, round 1 step 2): without it a rushing dealer could pick C_0 = X − Σ others and
 * own the group key. The challenge binds the session id, the dealer's party and index,
 * so a proof cannot be replayed in another session or by another member.
 */

const DOMAIN = new TextEncoder().encode('edge-agent/threshold/dkg-pok/v1\0');

function u32(n: number): Uint8Array {
  const b = new Uint8Array(4);
  new DataView(b.buffer).setUint32(0, n >>> 0);
  return b;
}

function challenge(sid: Uint8Array, party: number, index: number, c0: Uint8Array, r: Uint8Array): bigint {
  const h = sha512.create();
  for (const part of [DOMAIN, u32(sid.length), sid, u32(party), u32(index), c0, r]) h.update(part);
  return scalarFromWide(h.digest());
}

export function provePossession(sid: Uint8Array, party: number, index: number, a0: bigint, c0: EdPoint, rng: (n: number) => Uint8Array): Uint8Array {
  let k = 0n;
  while (k === 0n) k = scalarFromWide(rng(64));
  const R = Point.BASE.multiply(k);
  const rBytes = R.toBytes();
  const c = challenge(sid, party, index, c0.toBytes(), rBytes);
  const z = (k + c * a0) % ORDER;
  const out = new Uint8Array(POINT_BYTES + SCALAR_BYTES);
  out.set(rBytes, 0);
  out.set(Fn.toBytes(z), POINT_BYTES);
  return out;
}

/** z·G − c·C_0 == R; false for anything malformed (the proof comes from outside). */
export function verifyPossession(sid: Uint8Array, party: number, index: number, c0: EdPoint, proof: Uint8Array): boolean {
  if (proof.length !== POINT_BYTES + SCALAR_BYTES) return false;
  try {
    const rBytes = proof.subarray(0, POINT_BYTES);
    const R = Point.fromBytes(rBytes);
    const z = Fn.fromBytes(proof.subarray(POINT_BYTES));
    const c = challenge(sid, party, index, c0.toBytes(), rBytes);
    // One interleaved multi-scalar multiplication: z·G + (L−c)·C_0.
    const lhs = mulAddUnsafe(Point, [Point.BASE, c0], [z, (ORDER - c) % ORDER]);
    return lhs.equals(R);
  } catch {
    return false;
  }
}
