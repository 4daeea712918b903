import { createHmac } from 'node:crypto';
import { sha256 } from './messages.js';
import type { ConsensusSigner, ConsensusVerifier } from './types.js';

/** A small seeded generator (mulberry32) for schedules and draws: same seed, same run. */
export interface SimRandom {
  next(): number;
  int(lo: number, hi: number): number;
  chance(p: number): boolean;
  pick<T>(items: readonly T[]): T;
  bytes(n: number): Uint8Array;
}

export function simRandom(seed: number): SimRandom {
  let a = seed >>> 0;
  const next = (): number => {
    a = (a + 0x6d2b79f5) >>> 0;
    let x = Math.imul(a ^ (a >>> 15), 1 | a);
    x = (x + Math.imul(x ^ (x >>> 7), 61 | x)) ^ x;
    return ((x ^ (x >>> 14)) >>> 0) / 2 ** 32;
  };
  const int = (lo: number, hi: number): number => lo + Math.floor(next() * (hi - lo + 1));
  return {
    next,
    int,
    chance: (p) => next() < p,
    pick: (items) => items[int(0, items.length - 1)]!,
    bytes: (n) => {
      const out = new Uint8Array(n);
      for (let i = 0; i < n; i++) out[i] = Math.floor(next() * 256);
      return out;
    },
  };
}

export interface SimSignatures {
  signer(party: number): ConsensusSigner;
  readonly verifier: ConsensusVerifier;
}

/**
 * HMAC-SHA256 under per-party keys: a stand-in signature for bulk simulation (the verifier
 * knows every key, which only a simulation may). The byzantine code only ever holds its own
 * signer, so it cannot produce another party's tag. `space` separates replicas from clients.
 */
export function hmacSignatures(seed: number, space: string): SimSignatures {
  const keys = new Map<number, Buffer>();
  const key = (p: number): Buffer => {
    let k = keys.get(p);
    if (k === undefined) keys.set(p, (k = Buffer.from(sha256(new TextEncoder().encode(`pbft-sim:${space}:${seed}:${p}`)))));
    return k;
  };
  const mac = (p: number, bytes: Uint8Array): Uint8Array => new Uint8Array(createHmac('sha256', key(p)).update(bytes).digest());
  return {
    signer: (p) => ({ sign: (bytes) => mac(p, bytes) }),
    verifier: {
      verify: (p, bytes, sig) => {
        if (!Number.isSafeInteger(p) || p < 0) return false;
        const want = mac(p, bytes);
        return sig.length === want.length && want.every((b, i) => b === sig[i]);
      },
    },
  };
}
