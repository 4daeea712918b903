/**
 * Provers. A Prover turns a circuit input into a Groth16 proof and its public signals;
 * backends are registered by name, so the native prover of the next issue plugs in beside
 * snarkjs without touching callers.
 *
 * The snarkjs backend is warm: it loads the proving key (zkey) into memory and compiles the
 * circuit's witness calculator once, then each proof is one witness computation plus
 * snarkjs's groth16.prove over in-memory buffers. (groth16.fullProve with file names
 * re-reads the zkey and re-compiles the wasm on every call.)
 */
import { readFileSync } from 'node:fs';
import * as snarkjs from 'snarkjs';
import type { CircuitArtifacts } from './artifacts.js';
import { releaseCurve, retainCurve } from './curve.js';
import { ZkpError } from './errors.js';
import type { CircuitInput } from './inputs.js';
import { fromSnarkjsProof, fromSnarkjsSignals, type ProofResult } from './proof.js';
import { WitnessCalculator } from './witness.js';

export interface Prover {
  /** The backend's name ('snarkjs', later 'native'). */
  readonly backend: string;
  readonly circuit: CircuitArtifacts;
  /** prove(input) → { proof, publicSignals }. WITNESS when the input does not satisfy the circuit. */
  prove(input: CircuitInput): Promise<ProofResult>;
  /** Frees what the prover holds; later calls throw CLOSED. */
  close(): Promise<void>;
}

/** A prover whose two stages can be run (and timed) apart. */
export interface StagedProver extends Prover {
  /** The witness, in the .wtns format snarkjs and rapidsnark read. */
  witness(input: CircuitInput): Promise<Uint8Array>;
  proveWitness(wtns: Uint8Array): Promise<ProofResult>;
}

export type ProverFactory = (circuit: CircuitArtifacts) => Promise<Prover>;

const backends = new Map<string, ProverFactory>();

/** Registers a backend under a name (the native prover registers itself as 'native'). */
export function registerProverBackend(name: string, factory: ProverFactory): void {
  if (typeof name !== 'string' || !/^[a-z][a-z0-9-]{0,31}$/.test(name)) throw new ZkpError('ARGUMENT', 'a backend name is lowercase letters, digits, dashes');
  if (typeof factory !== 'function') throw new ZkpError('ARGUMENT', 'a backend factory must be a function');
  backends.set(name, factory);
}

export function proverBackends(): string[] {
  return [...backends.keys()].sort();
}

/** A loaded prover for a circuit, on the named backend (default snarkjs). */
export async function createProver(circuit: CircuitArtifacts, opts: { backend?: string } = {}): Promise<Prover> {
  const name = opts.backend ?? 'snarkjs';
  const factory = backends.get(name);
  if (!factory) throw new ZkpError('ARGUMENT', `no prover backend '${name}' (have: ${proverBackends().join(', ')})`);
  return factory(circuit);
}

interface MemFile {
  type: 'mem';
  data: Uint8Array;
}

/**
 * What every backend shares: circom's witness calculator loaded once, the open/closed state,
 * and prove = witness then proveWitness. A backend supplies the proving of a witness and what
 * closing frees.
 */
export abstract class WitnessProver implements StagedProver {
  abstract readonly backend: string;
  private closed = false;

  protected constructor(
    readonly circuit: CircuitArtifacts,
    private readonly calculator: WitnessCalculator,
  ) {}

  async witness(input: CircuitInput): Promise<Uint8Array> {
    this.assertOpen();
    return this.calculator.calculate(input);
  }

  async proveWitness(wtns: Uint8Array): Promise<ProofResult> {
    this.assertOpen();
    if (!(wtns instanceof Uint8Array)) throw new ZkpError('ARGUMENT', 'a witness is bytes');
    return this.proveBytes(wtns);
  }

  async prove(input: CircuitInput): Promise<ProofResult> {
    return this.proveWitness(await this.witness(input));
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.release();
  }

  /** The backend's proof of a witness already checked to be bytes. */
  protected abstract proveBytes(wtns: Uint8Array): Promise<ProofResult>;
  /** Frees what the backend holds (once). */
  protected abstract release(): void | Promise<void>;

  protected assertOpen(): void {
    if (this.closed) throw new ZkpError('CLOSED', `the ${this.circuit.name} ${this.backend} prover is closed`);
  }
}

export class SnarkjsProver extends WitnessProver {
  readonly backend = 'snarkjs';

  private constructor(
    circuit: CircuitArtifacts,
    private readonly zkey: Uint8Array,
    calculator: WitnessCalculator,
  ) {
    super(circuit, calculator);
  }

  static async load(circuit: CircuitArtifacts): Promise<SnarkjsProver> {
    if (typeof circuit !== 'object' || circuit === null || typeof circuit.zkey !== 'string') {
      throw new ZkpError('ARGUMENT', 'circuit must be the artifacts of a built circuit');
    }
    let zkey: Uint8Array;
    try {
      zkey = readFileSync(circuit.zkey);
    } catch (err) {
      throw new ZkpError('ARTIFACT', `cannot read ${circuit.zkey}`, { cause: err });
    }
    const calculator = await WitnessCalculator.load(circuit.wasm, circuit.witnessCalculator);
    await retainCurve();
    return new SnarkjsProver(circuit, zkey, calculator);
  }

  protected async proveBytes(wtns: Uint8Array): Promise<ProofResult> {
    // snarkjs reads "files" of type mem without copying the proving key.
    const zkeyFile: MemFile = { type: 'mem', data: this.zkey };
    const wtnsFile: MemFile = { type: 'mem', data: wtns };
    let out: { proof: unknown; publicSignals: unknown };
    try {
      out = await (snarkjs.groth16.prove as unknown as (z: MemFile, w: MemFile) => Promise<{ proof: unknown; publicSignals: unknown }>)(
        zkeyFile,
        wtnsFile,
      );
    } catch (err) {
      throw new ZkpError('PROVE', `snarkjs could not prove ${this.circuit.name}`, { cause: err });
    }
    return { proof: fromSnarkjsProof(out.proof), publicSignals: fromSnarkjsSignals(out.publicSignals) };
  }

  protected async release(): Promise<void> {
    await releaseCurve();
  }
}

registerProverBackend('snarkjs', (circuit) => SnarkjsProver.load(circuit));
