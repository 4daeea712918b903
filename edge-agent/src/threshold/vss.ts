import { ed25519 } from '@noble/curves/ed25519.js';
import { mulAddUnsafe } from '@noble/curves/abstract/curve.js';
import { ThresholdError } from './errors.js';

/**
 * Feldman VSS over the Ed25519 prime-order group, the arithmetic under DKG, refresh and
 * resharing. Scalars are bigints mod the group order L; points are noble's Ed25519 points.
 * Identifiers are the x-coordinates 1, 2, ... (noble's Identifier.fromNumber(i) is the
 * 32-byte little-endian encoding of i).
 */

export const Point = ed25519.Point;
export type EdPoint = InstanceType<typeof ed25519.Point>;
export const Fn = ed25519.Point.Fn;
/** The order of the prime subgroup: every scalar lives mod this. */
export const ORDER: bigint = Fn.ORDER;
export const SCALAR_BYTES = 32;
export const POINT_BYTES = 32;

function bad(message: string): never {
  throw new ThresholdError('BAD_ARGUMENT', message);
}

function checkScalar(name: string, s: unknown): bigint {
  if (typeof s !== 'bigint' || s < 0n || s >= ORDER) bad(`${name} must be a bigint in [0, L), got ${typeof s === 'bigint' ? 'out of range' : typeof s}`);
  return s;
}

function checkIdentifier(name: string, x: unknown): bigint {
  if (typeof x !== 'bigint' || x <= 0n || x >= ORDER) bad(`${name} must be a non-zero scalar identifier`);
  return x;
}

function checkCoefficients(coefficients: readonly bigint[]): void {
  if (!Array.isArray(coefficients) || coefficients.length === 0) bad('coefficients must be a non-empty array');
  coefficients.forEach((c, k) => checkScalar(`coefficients[${k}]`, c));
}

function checkPoints(name: string, points: readonly EdPoint[]): void {
  if (!Array.isArray(points) || points.length === 0) bad(`${name} must be a non-empty array of points`);
  for (const p of points) if (!(p instanceof Point)) bad(`${name} must hold Ed25519 points`);
}

/** A scalar from 32 little-endian bytes; refuses non-canonical encodings (>= L). */
export function scalarFromBytes(bytes: Uint8Array): bigint {
  if (!(bytes instanceof Uint8Array) || bytes.length !== SCALAR_BYTES) bad(`a scalar is ${SCALAR_BYTES} bytes`);
  try {
    return Fn.fromBytes(bytes);
  } catch {
    return bad('scalar encoding is not canonical (>= group order)');
  }
}

export function scalarToBytes(s: bigint): Uint8Array {
  return Fn.toBytes(checkScalar('scalar', s));
}

/** Uniform scalar from 64 random bytes (the bias of the reduction is below 2^-250). */
export function scalarFromWide(bytes: Uint8Array): bigint {
  if (!(bytes instanceof Uint8Array) || bytes.length < 48) bad('wide scalar input needs at least 48 bytes');
  let x = 0n;
  for (let i = bytes.length - 1; i >= 0; i--) x = (x << 8n) | BigInt(bytes[i]!);
  return x % ORDER;
}

/**
 * A point from its 32-byte encoding, checked on the curve and in the prime-order subgroup.
 * The identity is allowed only when asked for (zero-sharing commitments start with it).
 * The subgroup check costs a full scalar multiplication; the dealing cores skip it per
 * package and check the combined commitments instead (see dkg-session.ts, decide).
 */
export function pointFromBytes(bytes: Uint8Array, allowIdentity = false, checkSubgroup = true): EdPoint {
  if (!(bytes instanceof Uint8Array) || bytes.length !== POINT_BYTES) bad(`a point is ${POINT_BYTES} bytes`);
  let p: EdPoint;
  try {
    p = Point.fromBytes(bytes);
  } catch {
    return bad('not a valid Ed25519 point encoding');
  }
  if (p.is0()) {
    if (!allowIdentity) bad('the identity point is not allowed here');
    return p;
  }
  try {
    p.assertValidity(); // noble refuses the identity here, hence the check above
  } catch {
    return bad('not a valid Ed25519 point');
  }
  // A small-order component would let shares differ by torsion and break Feldman checks.
  if (checkSubgroup && !p.isTorsionFree()) bad('point is not in the prime-order subgroup');
  return p;
}

/** f(x) = Σ a_k x^k mod L, by Horner. */
export function evalPolynomial(coefficients: readonly bigint[], x: bigint): bigint {
  checkCoefficients(coefficients);
  checkScalar('x', x);
  let acc = 0n;
  for (let k = coefficients.length - 1; k >= 0; k--) acc = (acc * x + coefficients[k]!) % ORDER;
  return acc;
}

/** Feldman commitments C_k = a_k·G. */
export function commitPolynomial(coefficients: readonly bigint[]): EdPoint[] {
  checkCoefficients(coefficients);
  return coefficients.map((a) => (a === 0n ? Point.ZERO : Point.BASE.multiply(a)));
}

/** Σ_k C_k · x^k: the public image of f(x). Variable time: commitments and x are public. */
export function evalCommitment(commitments: readonly EdPoint[], x: bigint): EdPoint {
  checkPoints('commitments', commitments);
  checkIdentifier('x', x);
  const powers: bigint[] = [];
  let p = 1n;
  for (let k = 0; k < commitments.length; k++) {
    powers.push(p);
    p = (p * x) % ORDER;
  }
  return mulAddUnsafe(Point, commitments as EdPoint[], powers);
}

/** The Feldman check g^{share} == Σ_k C_k · x^k. */
export function verifyShare(commitments: readonly EdPoint[], x: bigint, share: bigint): boolean {
  checkScalar('share', share);
  const expected = evalCommitment(commitments, x);
  return (share === 0n ? Point.ZERO : Point.BASE.multiply(share)).equals(expected);
}

/** λ_i = Π_{j≠i} x_j / (x_j − x_i): the Lagrange coefficient at 0 of x_i within the set xs. */
export function lagrangeAtZero(xs: readonly bigint[], xi: bigint): bigint {
  if (!Array.isArray(xs) || xs.length === 0) bad('identifier set must be non-empty');
  xs.forEach((x, k) => checkIdentifier(`xs[${k}]`, x));
  if (new Set(xs).size !== xs.length) bad('identifier set has duplicates');
  if (!xs.includes(xi)) bad('identifier is not in the set');
  let num = 1n;
  let den = 1n;
  for (const x of xs) {
    if (x === xi) continue;
    num = (num * x) % ORDER;
    den = (den * ((x - xi + ORDER) % ORDER)) % ORDER;
  }
  return (num * Fn.inv(den)) % ORDER;
}

export interface SharePoint {
  readonly x: bigint;
  readonly y: bigint;
}

/** f(0) from shares (x, f(x)); the caller supplies at least degree+1 of them. For tests and recovery. */
export function reconstruct(shares: readonly SharePoint[]): bigint {
  if (!Array.isArray(shares) || shares.length === 0) bad('reconstruct needs at least one share');
  const xs = shares.map((s) => s.x);
  let acc = 0n;
  for (const s of shares) acc = (acc + checkScalar('share', s.y) * lagrangeAtZero(xs, s.x)) % ORDER;
  return acc;
}

/** Σ w_i · P_i over equal-length commitment vectors (weights 1 for DKG, λ_i for resharing). */
export function combineCommitments(vectors: readonly (readonly EdPoint[])[], weights?: readonly bigint[]): EdPoint[] {
  if (vectors.length === 0) bad('nothing to combine');
  const len = vectors[0]!.length;
  if (weights !== undefined && weights.length !== vectors.length) bad('one weight per commitment vector');
  const out: EdPoint[] = [];
  for (let k = 0; k < len; k++) {
    const points: EdPoint[] = [];
    for (const v of vectors) {
      if (v.length !== len) bad('commitment vectors differ in length');
      points.push(v[k]!);
    }
    out.push(weights === undefined ? points.reduce((a, b) => a.add(b), Point.ZERO) : mulAddUnsafe(Point, points, weights.slice()));
  }
  return out;
}

/** Random polynomial of the given degree with a fixed constant term; rng gives uniform bytes. */
export function randomPolynomial(degree: number, constant: bigint, rng: (n: number) => Uint8Array): bigint[] {
  if (!Number.isSafeInteger(degree) || degree < 0 || degree > 255) bad('degree must be an integer from 0 to 255');
  checkScalar('constant', constant);
  const out = [constant];
  for (let k = 0; k < degree; k++) {
    let a = 0n;
    // A zero coefficient would commit to the identity, which FROST public packages refuse.
    while (a === 0n) a = scalarFromWide(rng(64));
    out.push(a);
  }
  return out;
}
