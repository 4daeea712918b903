/**
 * Seeded PRNG (sfc32, seeded through splitmix32): the simulator's only source
 * of chance, so one seed gives one run. Independent streams come from fork(),
 * so that e.g. the topology does not shift when the link model draws more.
 */
import { SimError } from './errors.js';

function splitmix32(state: number): [number, number] {
  const s = (state + 0x9e3779b9) >>> 0;
  let z = s;
  z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
  z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
  return [s, (z ^ (z >>> 16)) >>> 0];
}

export class Rng {
  #a: number;
  #b: number;
  #c: number;
  #d: number;

  constructor(seed: number) {
    if (!Number.isSafeInteger(seed)) throw new SimError('BAD_ARGUMENT', `Rng: seed must be a safe integer, got ${String(seed)}`);
    let s = (seed ^ Math.floor(seed / 2 ** 32)) >>> 0;
    let v: number;
    [s, v] = splitmix32(s);
    this.#a = v;
    [s, v] = splitmix32(s);
    this.#b = v;
    [s, v] = splitmix32(s);
    this.#c = v;
    [, v] = splitmix32(s);
    this.#d = v | 1;
    for (let i = 0; i < 12; i++) this.u32();
  }

  /** Uniform 32-bit unsigned integer. */
  u32(): number {
    const t = (((this.#a + this.#b) | 0) + this.#d) | 0;
    this.#d = (this.#d + 1) | 0;
    this.#a = this.#b ^ (this.#b >>> 9);
    this.#b = (this.#c + (this.#c << 3)) | 0;
    this.#c = (this.#c << 21) | (this.#c >>> 11);
    this.#c = (this.#c + t) | 0;
    return t >>> 0;
  }

  /** Uniform in [0, 1). */
  next(): number {
    return this.u32() / 4294967296;
  }

  /** Uniform integer in [0, n). */
  int(n: number): number {
    if (!Number.isSafeInteger(n) || n <= 0) throw new SimError('BAD_ARGUMENT', `Rng.int: n must be a positive integer, got ${String(n)}`);
    return Math.floor(this.next() * n);
  }

  /** `n` pseudo-random bytes. */
  bytes(n: number): Uint8Array {
    const out = new Uint8Array(n);
    for (let i = 0; i < n; i += 4) {
      const v = this.u32();
      for (let k = 0; k < 4 && i + k < n; k++) out[i + k] = (v >>> (8 * k)) & 0xff;
    }
    return out;
  }

  /** An independent stream labelled `label`, drawn from this one. */
  fork(label: number): Rng {
    return new Rng(((this.u32() ^ Math.imul(label + 1, 0x9e3779b1)) >>> 0) + 2 ** 32 * (label & 0xffff));
  }
}
