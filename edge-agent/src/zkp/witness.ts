/**
 * circom's own witness calculator for a circuit (the witness_calculator.js it generates next
 * to the wasm), compiled once and kept: computing a witness is then one call into the
 * instantiated WebAssembly, with no file reads and no recompilation.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { ZkpError } from './errors.js';
import type { CircuitInput } from './inputs.js';

interface CircomWitnessCalculator {
  calculateWTNSBin(input: Record<string, unknown>, sanityCheck: boolean): Promise<Uint8Array>;
}
type Builder = (code: Uint8Array, options?: Record<string, unknown>) => Promise<CircomWitnessCalculator>;

const require = createRequire(import.meta.url);

export class WitnessCalculator {
  private constructor(private readonly wc: CircomWitnessCalculator) {}

  static async load(wasmPath: string, calculatorPath: string): Promise<WitnessCalculator> {
    let builder: Builder;
    let code: Uint8Array;
    try {
      builder = require(calculatorPath) as Builder;
      code = readFileSync(wasmPath);
    } catch (err) {
      throw new ZkpError('ARTIFACT', `cannot load the witness calculator ${wasmPath}`, { cause: err });
    }
    if (typeof builder !== 'function') throw new ZkpError('ARTIFACT', `${calculatorPath} is not circom's witness calculator`);
    // circom's calculator prints failed asserts to the console itself; our error says it.
    const wc = await builder(code, { logOutput: () => undefined, logStartComponent: () => undefined });
    return new WitnessCalculator(wc);
  }

  /** The witness in snarkjs's .wtns format; WITNESS when the input breaks a constraint. */
  async calculate(input: CircuitInput): Promise<Uint8Array> {
    if (typeof input !== 'object' || input === null) throw new ZkpError('ARGUMENT', 'input must be an object of signals');
    const plain: Record<string, string | string[]> = {};
    for (const [k, v] of Object.entries(input)) {
      if (typeof v === 'bigint') plain[k] = v.toString(10);
      else if (Array.isArray(v) && v.every((x) => typeof x === 'bigint')) plain[k] = v.map((x: bigint) => x.toString(10));
      else throw new ZkpError('ARGUMENT', `signal ${k} must be a bigint or an array of bigints`);
    }
    try {
      return await this.wc.calculateWTNSBin(plain, true);
    } catch (err) {
      const first = (err instanceof Error ? err.message : String(err)).split('\n')[0];
      throw new ZkpError('WITNESS', `the input does not satisfy the circuit (${first})`, { cause: err });
    }
  }
}
