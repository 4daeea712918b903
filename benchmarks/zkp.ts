/**
 * Groth16 proofs of key possession and of membership (the development depth built by
 * circuits/build.mjs): constraints, witness time, prove time and verify time of our warm
 * in-process snarkjs prover (median of several proofs), the encoded proof size, and, in the
 * same run, what a user of the snarkjs CLI pays for one `snarkjs groth16 fullprove`
 * (process start, wasm compile, zkey read, witness, proof).
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import {
  circuitArtifacts,
  commitmentOf,
  encodeProof,
  keyPossessionInput,
  membershipInput,
  MerkleTree,
  SnarkjsProver,
  Verifier,
  type CircuitArtifacts,
  type CircuitInput,
} from '../edge-agent/src/zkp/index.js';
import { ensureCircuitsSync, SNARKJS_CLI } from '../edge-agent/test/zkp/build.js';
import type { BenchResult } from './run.js';
import { median, round } from './lib/measure.js';

const run = promisify(execFile);
const PROOFS = 9;
const CLI_RUNS = 3;

const ms = (t0: bigint): number => Number(process.hrtime.bigint() - t0) / 1e6;

async function measure(circuit: CircuitArtifacts, inputs: CircuitInput[], tmp: string): Promise<Record<string, number>> {
  const prover = await SnarkjsProver.load(circuit);
  const verifier = await Verifier.fromFile(circuit.vkey);
  try {
    // Warm-up: the first proof pays for the curve's thread pool and JIT.
    const first = await prover.prove(inputs[0]!);
    await verifier.verify(first.publicSignals, first.proof);
    const witness: number[] = [];
    const prove: number[] = [];
    const verify: number[] = [];
    let proofBytes = 0;
    for (let i = 0; i < PROOFS; i++) {
      const input = inputs[i % inputs.length]!;
      let t0 = process.hrtime.bigint();
      const wtns = await prover.witness(input);
      witness.push(ms(t0));
      t0 = process.hrtime.bigint();
      const r = await prover.proveWitness(wtns);
      prove.push(ms(t0));
      t0 = process.hrtime.bigint();
      const ok = await verifier.verify(r.publicSignals, r.proof);
      verify.push(ms(t0));
      if (!ok) throw new Error(`${circuit.name}: a fresh proof did not verify`);
      proofBytes = encodeProof(r.proof).length;
    }
    // The CLI, as a user would run it, from a JSON input file.
    const inputFile = join(tmp, `${circuit.name}.input.json`);
    const plain = Object.fromEntries(
      Object.entries(inputs[0]!).map(([k, v]) => [k, typeof v === 'bigint' ? v.toString() : v.map((x) => x.toString())]),
    );
    writeFileSync(inputFile, JSON.stringify(plain));
    const cli: number[] = [];
    for (let i = 0; i < CLI_RUNS; i++) {
      const t0 = process.hrtime.bigint();
      await run(SNARKJS_CLI, ['groth16', 'fullprove', inputFile, circuit.wasm, circuit.zkey, join(tmp, 'proof.json'), join(tmp, 'public.json')]);
      cli.push(ms(t0));
    }
    return {
      constraints: circuit.constraints,
      witnessMs: round(median(witness), 2),
      proveMs: round(median(prove), 1),
      verifyMs: round(median(verify), 1),
      proofBytes,
      cliMs: round(median(cli), 0),
    };
  } finally {
    await prover.close();
    await verifier.close();
  }
}

export default async function zkpBench(): Promise<BenchResult> {
  ensureCircuitsSync();
  const tmp = mkdtempSync(join(tmpdir(), 'zkp-bench-'));
  try {
    const secrets = Array.from({ length: 8 }, (_, i) => 0xb0a4dn * BigInt(i + 3));
    const challenges = secrets.map((_, i) => 0xc0ffeen + BigInt(i));
    const kp = circuitArtifacts('keyPossession');
    const mem = circuitArtifacts('membership');
    const tree = MerkleTree.fromLeaves(mem.depth!, secrets.map(commitmentOf));
    const keyPossession = await measure(kp, secrets.map((s, i) => keyPossessionInput(s, challenges[i]!)), tmp);
    const membership = await measure(mem, secrets.map((s, i) => membershipInput(s, challenges[i]!, tree)), tmp);
    return {
      backend: 'snarkjs (warm, in process)',
      proofs: PROOFS,
      keyPossession,
      membership: { ...membership, depth: mem.depth! },
    };
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}
