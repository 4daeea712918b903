/**
 * Poseidon over the BN254 scalar field, exactly as circomlib's Poseidon(n) template and
 * circomlibjs compute it: width t = n + 1, 8 full rounds, the partial rounds of circomlib's
 * table, x^5 S-box, state [0, inputs...], output state[0].
 *
 * The constants are not a committed table: circomlib's were produced by the Poseidon
 * reference Grain LFSR script, and @noble/curves' grainGenConstants reproduces them bit for
 * bit (edge-agent/test/zkp/poseidon.test.ts compares them with circomlibjs's table).
 * We support the widths the circuits use: 1 input (commitments, leaves) and 2 (nodes, nullifiers).
 */
import { grainGenConstants, poseidon, type PoseidonFn } from '@noble/curves/abstract/poseidon.js';
import { ZkpError } from './errors.js';
import { assertField, Fr } from './field.js';

const ROUNDS_FULL = 8;
/** circomlib's partial rounds for t = 2, 3 (its N_ROUNDS_P table starts at t = 2). */
const ROUNDS_PARTIAL: Readonly<Record<number, number>> = { 2: 56, 3: 57 };

export interface PoseidonParams {
  readonly t: number;
  readonly roundsFull: number;
  readonly roundsPartial: number;
  readonly roundConstants: readonly (readonly bigint[])[];
  readonly mds: readonly (readonly bigint[])[];
}

const params = new Map<number, PoseidonParams>();
const perms = new Map<number, PoseidonFn>();

/** The constants for width t (2 or 3), generated once. */
export function poseidonParams(t: number): PoseidonParams {
  const roundsPartial = ROUNDS_PARTIAL[t];
  if (roundsPartial === undefined) throw new ZkpError('ARGUMENT', `Poseidon width ${String(t)} is not supported (2 or 3)`);
  let p = params.get(t);
  if (!p) {
    const { roundConstants, mds } = grainGenConstants({ Fp: Fr, t, roundsFull: ROUNDS_FULL, roundsPartial });
    p = { t, roundsFull: ROUNDS_FULL, roundsPartial, roundConstants, mds };
    params.set(t, p);
  }
  return p;
}

function permutation(t: number): PoseidonFn {
  let f = perms.get(t);
  if (!f) {
    const p = poseidonParams(t);
    f = poseidon({
      Fp: Fr,
      t,
      roundsFull: p.roundsFull,
      roundsPartial: p.roundsPartial,
      sboxPower: 5,
      roundConstants: p.roundConstants.map((r) => [...r]),
      mds: p.mds.map((r) => [...r]),
    });
    perms.set(t, f);
  }
  return f;
}

/** circomlib's Poseidon(inputs.length) for 1 or 2 field elements. */
export function poseidonHash(inputs: readonly bigint[]): bigint {
  if (!Array.isArray(inputs) || inputs.length < 1 || inputs.length > 2) {
    throw new ZkpError('ARGUMENT', 'Poseidon takes 1 or 2 inputs');
  }
  inputs.forEach((x, i) => assertField(x, `Poseidon input ${i}`));
  const out = permutation(inputs.length + 1)([0n, ...inputs])[0];
  if (out === undefined) throw new ZkpError('ARGUMENT', 'Poseidon returned no output');
  return out;
}

/** Poseidon(x): a board's commitment to its secret, and its Merkle leaf. */
export const poseidon1 = (x: bigint): bigint => poseidonHash([x]);
/** Poseidon(a, b): Merkle nodes, responses and nullifiers. */
export const poseidon2 = (a: bigint, b: bigint): bigint => poseidonHash([a, b]);
