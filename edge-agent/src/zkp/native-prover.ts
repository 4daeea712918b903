/**
 * The native Groth16 prover (native-napi's groth16/): the zkey is parsed once into the
 * addon's memory, each proof is circom's witness calculator (as for snarkjs) plus one
 * asynchronous call that runs on libuv's pool, off the JS thread. Its JSON is snarkjs's, so
 * the same decoders read it. Registered as backend 'native' when the addon has the prover,
 * and as 'auto', which picks native when present and snarkjs otherwise and says why.
 */
import { readFileSync } from 'node:fs';
import { loadNative } from '../native/index.js';
import type { CircuitArtifacts } from './artifacts.js';
import { ZkpError, type ZkpErrorCode } from './errors.js';
import { fromSnarkjsProof, fromSnarkjsSignals, type ProofResult } from './proof.js';
import { WitnessProver, createProver, registerProverBackend, type Prover } from './prover.js';
import { WitnessCalculator } from './witness.js';

/** What the parsed proving key holds in the addon. */
export interface NativeKeyInfo {
  /** The fixed-base table budget the key was loaded with. */
  readonly tableBudgetBytes: number;
  /** Bytes of fixed-base tables built (0 until the first proof builds them, or with no budget). */
  readonly tableBytes: number;
  readonly nVars: number;
  readonly nPublic: number;
  readonly domainSize: number;
  /** Bytes of points and coefficients kept in memory. */
  readonly memoryBytes: number;
}

/** The addon's Groth16 functions (native-napi/src/groth16_napi.rs). */
export interface Groth16Addon {
  groth16LoadZkey(zkey: Uint8Array, tableBytes?: number): number;
  groth16Prove(handle: number, wtns: Uint8Array, threads?: number): Promise<string>;
  groth16Free(handle: number): boolean;
  groth16KeyInfo(handle: number): NativeKeyInfo;
  /** Test hook: Σ kᵢ·Pᵢ; points as plain little-endian 32-byte coordinates (64 or 128 bytes each, zeros = identity). */
  groth16Msm(group: 'g1' | 'g2', points: Uint8Array, scalars: Uint8Array, threads: number): Buffer;
  /** Test hook: one field operation on plain little-endian 32-byte integers. */
  groth16FieldOp(field: 'fq' | 'fr', op: 'add' | 'sub' | 'mul' | 'square' | 'neg' | 'inv', a: Uint8Array, b: Uint8Array): Buffer;
}

const GROTH16_FUNCTIONS = ['groth16LoadZkey', 'groth16Prove', 'groth16Free', 'groth16KeyInfo', 'groth16Msm', 'groth16FieldOp'] as const;

export type NativeProverStatus = { readonly addon: Groth16Addon; readonly reason: string } | { readonly addon: null; readonly reason: string };

/** The addon's prover if it has one, and why (not). Never throws. */
export function nativeProverStatus(): NativeProverStatus {
  const load = loadNative();
  if (load.addon === null) return { addon: null, reason: load.capabilities[0]?.reason ?? 'the native addon is not loaded' };
  const record = load.addon as unknown as Record<string, unknown>;
  const missing = GROTH16_FUNCTIONS.filter((n) => typeof record[n] !== 'function');
  if (missing.length > 0) {
    return { addon: null, reason: `${load.path} lacks ${missing.join(', ')} (a build before the native prover?); run \`node native-napi/build.mjs\`` };
  }
  return { addon: load.addon as unknown as Groth16Addon, reason: `native Groth16 prover in ${load.path}` };
}

/** The addon's error codes, as the room's. */
function fromNative(err: unknown, what: string): ZkpError {
  const code = err instanceof Error ? (err as Error & { code?: unknown }).code : undefined;
  const message = err instanceof Error ? err.message : String(err);
  const map: Record<string, ZkpErrorCode> = {
    ZKEY_MALFORMED: 'ARTIFACT',
    WTNS_MALFORMED: 'ARGUMENT',
    WTNS_MISMATCH: 'ARGUMENT',
    CLOSED: 'CLOSED',
    ERR_INVALID_ARG_TYPE: 'ARGUMENT',
    ERR_OUT_OF_RANGE: 'ARGUMENT',
  };
  const ours = (typeof code === 'string' ? map[code] : undefined) ?? 'PROVE';
  return new ZkpError(ours, `${what}: ${message}${typeof code === 'string' ? ` (${code})` : ''}`, { cause: err });
}

/** The default fixed-base table budget per loaded key: about 1.7× faster MSMs for 16 MB. */
export const DEFAULT_TABLE_MB = 16;

export interface NativeProverOptions {
  /** Threads for the multi-scalar multiplications (default: all cores). */
  readonly threads?: number;
  /**
   * Memory for fixed-base tables (multiples of the key's bases, built by the first proof),
   * in MiB; 0 turns them off. Default DEFAULT_TABLE_MB. A board profile sizes it.
   */
  readonly tableMb?: number;
  /** The addon to use (default: the loaded one). */
  readonly addon?: Groth16Addon;
}

export class NativeProver extends WitnessProver {
  readonly backend = 'native';

  private constructor(
    circuit: CircuitArtifacts,
    private readonly addon: Groth16Addon,
    private readonly handle: number,
    calculator: WitnessCalculator,
    private readonly threads: number | undefined,
  ) {
    super(circuit, calculator);
  }

  static async load(circuit: CircuitArtifacts, opts: NativeProverOptions = {}): Promise<NativeProver> {
    if (typeof circuit !== 'object' || circuit === null || typeof circuit.zkey !== 'string') {
      throw new ZkpError('ARGUMENT', 'circuit must be the artifacts of a built circuit');
    }
    if (typeof opts !== 'object' || opts === null) throw new ZkpError('ARGUMENT', 'options must be an object');
    const threads = opts.threads;
    if (threads !== undefined && (!Number.isInteger(threads) || threads < 1 || threads > 256)) {
      throw new ZkpError('ARGUMENT', `threads must be an integer in 1..256, got ${String(threads)}`);
    }
    const tableMb = opts.tableMb ?? DEFAULT_TABLE_MB;
    if (typeof tableMb !== 'number' || !Number.isFinite(tableMb) || tableMb < 0 || tableMb > 4096) {
      throw new ZkpError('ARGUMENT', `tableMb must be a number in 0..4096, got ${String(tableMb)}`);
    }
    let addon = opts.addon;
    if (addon === undefined) {
      const status = nativeProverStatus();
      if (status.addon === null) throw new ZkpError('PROVE', `the native prover is unavailable: ${status.reason}`);
      addon = status.addon;
    }
    let zkey: Buffer;
    try {
      zkey = readFileSync(circuit.zkey);
    } catch (err) {
      throw new ZkpError('ARTIFACT', `cannot read ${circuit.zkey}`, { cause: err });
    }
    let handle: number;
    try {
      handle = addon.groth16LoadZkey(zkey, Math.floor(tableMb * 2 ** 20));
    } catch (err) {
      throw fromNative(err, `cannot load ${circuit.zkey}`);
    }
    try {
      const calculator = await WitnessCalculator.load(circuit.wasm, circuit.witnessCalculator);
      return new NativeProver(circuit, addon, handle, calculator, threads);
    } catch (err) {
      addon.groth16Free(handle);
      throw err;
    }
  }

  /** The parsed key's shape and memory. */
  keyInfo(): NativeKeyInfo {
    this.assertOpen();
    return this.addon.groth16KeyInfo(this.handle);
  }

  protected async proveBytes(wtns: Uint8Array): Promise<ProofResult> {
    // A Buffer view of the same memory: the addon reads Buffers.
    const bytes = Buffer.isBuffer(wtns) ? wtns : Buffer.from(wtns.buffer, wtns.byteOffset, wtns.byteLength);
    let json: string;
    try {
      json = await this.addon.groth16Prove(this.handle, bytes, this.threads);
    } catch (err) {
      throw fromNative(err, `the native prover could not prove ${this.circuit.name}`);
    }
    let out: { proof?: unknown; publicSignals?: unknown };
    try {
      out = JSON.parse(json) as { proof?: unknown; publicSignals?: unknown };
    } catch (err) {
      throw new ZkpError('PROVE', 'the native prover returned invalid JSON', { cause: err });
    }
    return { proof: fromSnarkjsProof(out.proof), publicSignals: fromSnarkjsSignals(out.publicSignals) };
  }

  protected release(): void {
    this.addon.groth16Free(this.handle);
  }
}

/**
 * 'auto': the native prover when the addon has it, else snarkjs. The prover's `backend`
 * says which was chosen and `autoProverChoice()` says why.
 */
export function autoProverChoice(): { backend: 'native' | 'snarkjs'; reason: string } {
  const s = nativeProverStatus();
  return s.addon !== null ? { backend: 'native', reason: s.reason } : { backend: 'snarkjs', reason: `falling back to snarkjs: ${s.reason}` };
}

async function autoProver(circuit: CircuitArtifacts): Promise<Prover> {
  const choice = autoProverChoice();
  return choice.backend === 'native' ? NativeProver.load(circuit) : createProver(circuit, { backend: 'snarkjs' });
}

if (nativeProverStatus().addon !== null) registerProverBackend('native', (circuit) => NativeProver.load(circuit));
registerProverBackend('auto', autoProver);
