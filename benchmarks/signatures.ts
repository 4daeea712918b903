/**
 * secp256k1 signature verification: ours (OpenSSL through node:crypto, with the
 * low-S and range checks in front and a cache of parsed keys) side by side with
 * noble's verify, which it replaced, on the same keys and messages. Also bare
 * OpenSSL with pre-parsed keys (what our wrapper adds), a verification against
 * keys the cache has evicted (a parse each time), and signing, which stays on noble.
 */
import { type KeyObject, createPublicKey, verify as opensslVerify } from 'node:crypto';
import { secp256k1 } from '@noble/curves/secp256k1.js';
import { publicKeyOf, sign, verify } from '../edge-agent/src/identity/index.js';
import type { BenchResult } from './run.js';
import { compareOpsPerSec, round } from './lib/measure.js';

const KEYS = 16; // a few peers, as in a DKG round: all fit the key cache
const COLD_KEYS = 1024; // more distinct keys than the cache holds (256): every lookup misses
const MESSAGE_BYTES = 200;
const ECDSA = { prehash: true, lowS: true, format: 'compact' } as const;

interface Signed {
  publicKey: Uint8Array;
  message: Uint8Array;
  signature: Uint8Array;
}

/** Deterministic secret key i (never 0, far below n). */
function secretKeyOf(i: number): Uint8Array {
  const sk = new Uint8Array(32);
  let x = Math.imul(i + 1, 0x9e3779b1) >>> 0 || 1;
  for (let k = 0; k < 32; k++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    sk[k] = x & 0xff;
  }
  sk[0] = (sk[0]! & 0x7f) | 0x01;
  return sk;
}

function signedSet(count: number): Signed[] {
  return Array.from({ length: count }, (_, i) => {
    const secretKey = secretKeyOf(i);
    const message = new Uint8Array(MESSAGE_BYTES).fill(i & 0xff);
    return { publicKey: publicKeyOf(secretKey), message, signature: sign(secretKey, message) };
  });
}

const SPKI_PREFIX = Buffer.from('3036301006072a8648ce3d020106052b8104000a032200', 'hex');
const keyObject = (publicKey: Uint8Array): KeyObject => createPublicKey({ key: Buffer.concat([SPKI_PREFIX, publicKey]), format: 'der', type: 'spki' });

const usOf = (opsPerSec: number): number => round(1e6 / opsPerSec, 1);

export default async function signaturesBench(): Promise<BenchResult> {
  const hot = signedSet(KEYS);
  const cold = signedSet(COLD_KEYS);
  // Both must say yes to every signature, or the timing compares different work.
  const agree = [...hot, ...cold].every(
    ({ publicKey, message, signature }) => verify(publicKey, message, signature) && secp256k1.verify(signature, message, publicKey, ECDSA),
  );

  const parsed = hot.map((x) => keyObject(x.publicKey));
  let h = 0;
  let c = 0;
  let sink = 0;
  const ops = compareOpsPerSec(
    {
      ours: () => {
        const x = hot[h++ % KEYS]!;
        if (verify(x.publicKey, x.message, x.signature)) sink++;
      },
      oursColdKeys: () => {
        const x = cold[c++ % COLD_KEYS]!;
        if (verify(x.publicKey, x.message, x.signature)) sink++;
      },
      opensslBare: () => {
        const i = h++ % KEYS;
        const x = hot[i]!;
        if (opensslVerify('sha256', x.message, { key: parsed[i]!, dsaEncoding: 'ieee-p1363' }, x.signature)) sink++;
      },
      noble: () => {
        const x = hot[h++ % KEYS]!;
        if (secp256k1.verify(x.signature, x.message, x.publicKey, ECDSA)) sink++;
      },
    },
    { rounds: 5, roundMs: 250 },
  );
  const secretKey = secretKeyOf(0);
  const message = hot[0]!.message;
  const signOps = compareOpsPerSec({ sign: () => sign(secretKey, message) }, { rounds: 3, roundMs: 250 });

  return {
    keys: KEYS,
    messageBytes: MESSAGE_BYTES,
    agree: agree && sink > 0,
    verifyUs: { ours: usOf(ops.ours), noble: usOf(ops.noble), oursColdKeys: usOf(ops.oursColdKeys), opensslBare: usOf(ops.opensslBare) },
    verifiesPerSec: { ours: round(ops.ours, 0), noble: round(ops.noble, 0) },
    nobleToOursRatio: round(ops.ours / ops.noble, 2),
    signUs: usOf(signOps.sign),
  };
}
