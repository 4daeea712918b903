/** The BN254 scalar field: circuit signals, Poseidon inputs and outputs, Merkle nodes all live here. */
import { bn254 } from '@noble/curves/bn254.js';
import { ZkpError } from './errors.js';

export const Fr = bn254.fields.Fr;
/** r, the order of BN254's groups: circom's prime. */
export const FIELD_ORDER: bigint = Fr.ORDER;

/** Checks that x is a canonical field element (a bigint in [0, r)) and returns it. */
export function assertField(x: unknown, what = 'value'): bigint {
  if (typeof x !== 'bigint') throw new ZkpError('ARGUMENT', `${what} must be a bigint, got ${typeof x}`);
  if (x < 0n || x >= FIELD_ORDER) throw new ZkpError('NOT_IN_FIELD', `${what} is outside the BN254 scalar field`);
  return x;
}

/** Parses a decimal string as snarkjs writes signals, strictly: digits only, no sign, no leading zeros. */
export function fieldFromDecimal(s: unknown, what = 'signal'): bigint {
  if (typeof s !== 'string' || !/^(0|[1-9][0-9]{0,77})$/.test(s)) {
    throw new ZkpError('ARGUMENT', `${what} must be a decimal string of a field element`);
  }
  return assertField(BigInt(s), what);
}

/** 32 bytes, big-endian. */
export function fieldToBytes(x: bigint): Uint8Array {
  assertField(x);
  const out = new Uint8Array(32);
  let v = x;
  for (let i = 31; i >= 0; i--) {
    out[i] = Number(v & 0xffn);
    v >>= 8n;
  }
  return out;
}

/** A field element from 32 big-endian bytes, rejecting values >= r (no silent reduction). */
export function fieldFromBytes(b: Uint8Array, what = 'field element'): bigint {
  if (!(b instanceof Uint8Array) || b.length !== 32) throw new ZkpError('ARGUMENT', `${what} must be 32 bytes`);
  let v = 0n;
  for (const byte of b) v = (v << 8n) | BigInt(byte);
  if (v >= FIELD_ORDER) throw new ZkpError('NOT_IN_FIELD', `${what} is outside the BN254 scalar field`);
  return v;
}
