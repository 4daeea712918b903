/**
 * Groth16 verification with a verification key (snarkjs's JSON, as the circuits build exports
 * it). The key is checked and parsed once when the Verifier is made; verify() then checks the
 * signals and the proof's points (on the curve, in the subgroup) itself before handing them to
 * snarkjs's pairing check.
 */
import { readFileSync } from 'node:fs';
import * as snarkjs from 'snarkjs';
import { releaseCurve, retainCurve } from './curve.js';
import { ZkpError } from './errors.js';
import { assertField } from './field.js';
import { assertG1, assertG2, assertProofPoints } from './points.js';
import { fromSnarkjsProof, toSnarkjsProof, toSnarkjsSignals, type Groth16Proof } from './proof.js';

/** The fields of a snarkjs Groth16 verification key that verification uses. */
export interface VerificationKey {
  protocol: 'groth16';
  curve: 'bn128';
  nPublic: number;
  vk_alpha_1: string[];
  vk_beta_2: string[][];
  vk_gamma_2: string[][];
  vk_delta_2: string[][];
  IC: string[][];
}

/** Most public signals any of our circuits has; a key claiming more is refused. */
const MAX_PUBLIC = 64;

function parseVerificationKey(v: unknown): VerificationKey {
  if (typeof v !== 'object' || v === null) throw new ZkpError('VKEY', 'a verification key must be an object');
  const k = v as Partial<VerificationKey>;
  if (k.protocol !== 'groth16' || k.curve !== 'bn128') throw new ZkpError('VKEY', 'not a Groth16 BN254 (bn128) verification key');
  if (typeof k.nPublic !== 'number' || !Number.isInteger(k.nPublic) || k.nPublic < 0 || k.nPublic > MAX_PUBLIC) {
    throw new ZkpError('VKEY', 'nPublic must be an integer in [0, 64]');
  }
  if (!Array.isArray(k.IC) || k.IC.length !== k.nPublic + 1) throw new ZkpError('VKEY', 'IC must have nPublic + 1 points');
  // Reuse the proof parsers: they check shape and decimals; the point checks check the curve.
  try {
    const g1 = (p: unknown, w: string) => assertG1(fromSnarkjsProof({ pi_a: p, pi_b: k.vk_beta_2, pi_c: p }).a, w);
    const g2 = (p: unknown, w: string) => assertG2(fromSnarkjsProof({ pi_a: k.vk_alpha_1, pi_b: p, pi_c: k.vk_alpha_1 }).b, w);
    g1(k.vk_alpha_1, 'vk_alpha_1');
    g2(k.vk_beta_2, 'vk_beta_2');
    g2(k.vk_gamma_2, 'vk_gamma_2');
    g2(k.vk_delta_2, 'vk_delta_2');
    k.IC.forEach((p, i) => g1(p, `IC[${i}]`));
  } catch (err) {
    throw new ZkpError('VKEY', `the verification key has an invalid point (${err instanceof Error ? err.message : String(err)})`, { cause: err });
  }
  const { protocol, curve, nPublic, vk_alpha_1, vk_beta_2, vk_gamma_2, vk_delta_2, IC } = k as VerificationKey;
  return { protocol, curve, nPublic, vk_alpha_1, vk_beta_2, vk_gamma_2, vk_delta_2, IC };
}

export class Verifier {
  private closed = false;

  private constructor(readonly key: Readonly<VerificationKey>) {}

  /** From the parsed JSON of a verification key. */
  static async fromKey(vkey: unknown): Promise<Verifier> {
    const key = parseVerificationKey(vkey);
    await retainCurve();
    return new Verifier(key);
  }

  /** From a verification key file (circuits/build/<circuit>/<circuit>.vkey.json). */
  static async fromFile(path: string): Promise<Verifier> {
    let json: unknown;
    try {
      json = JSON.parse(readFileSync(path, 'utf8'));
    } catch (err) {
      throw new ZkpError('VKEY', `cannot read the verification key ${String(path)}`, { cause: err });
    }
    return Verifier.fromKey(json);
  }

  get nPublic(): number {
    return this.key.nPublic;
  }

  /**
   * True when the proof is valid for these public signals. Throws (ARGUMENT, NOT_IN_FIELD,
   * BAD_POINT) on inputs that are not even candidates: wrong count, values outside the field,
   * points off the curve or outside the subgroup.
   */
  async verify(publicSignals: readonly bigint[], proof: Groth16Proof): Promise<boolean> {
    if (this.closed) throw new ZkpError('CLOSED', 'the verifier is closed');
    if (!Array.isArray(publicSignals) || publicSignals.length !== this.key.nPublic) {
      throw new ZkpError('ARGUMENT', `expected ${this.key.nPublic} public signals`);
    }
    publicSignals.forEach((s, i) => assertField(s, `public signal ${i}`));
    if (typeof proof !== 'object' || proof === null) throw new ZkpError('ARGUMENT', 'proof must be a Groth16Proof');
    assertProofPoints(proof);
    return snarkjs.groth16.verify(this.key as unknown as Parameters<typeof snarkjs.groth16.verify>[0], toSnarkjsSignals(publicSignals), toSnarkjsProof(proof) as unknown as Parameters<typeof snarkjs.groth16.verify>[2]);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await releaseCurve();
  }
}

/** One-shot verification: verify(vkey, publicSignals, proof). Prefer a kept Verifier on hot paths. */
export async function verify(vkey: unknown, publicSignals: readonly bigint[], proof: Groth16Proof): Promise<boolean> {
  const v = await Verifier.fromKey(vkey);
  try {
    return await v.verify(publicSignals, proof);
  } finally {
    await v.close();
  }
}
