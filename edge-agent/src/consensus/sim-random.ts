import { createHmac } from 'node:crypto';
import { sha256 } from './messages.js';
import type { ConsensusSigner, ConsensusVerifier } from './types.js';

export { simRandom, type SimRandom } from '../simkit/index.js';

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
