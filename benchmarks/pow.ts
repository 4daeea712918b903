/**
 * Proof-of-work search speed: our loop (measureHashRate) against the plain way,
 * a fresh crypto.createHash('sha256') per attempt, measured in alternating
 * rounds; and what DEFAULT_POW_DIFFICULTY costs here and, scaled, on a Pi 4.
 */
import { createHash, randomBytes } from 'node:crypto';
import {
  DEFAULT_POW_DIFFICULTY,
  PI4_POW_SLOWDOWN,
  expectedPowSeconds,
  measureHashRate,
} from '../edge-agent/src/identity/index.js';
import { median, round } from './lib/measure.js';
import type { BenchResult } from './run.js';

const ROUNDS = 7;
const ROUND_MS = 300;

/** Attempts per second of the textbook loop: new hash object, key, nonce, digest. */
function freshCreateHashRate(ms: number): number {
  const publicKey = randomBytes(33);
  const nonce = Buffer.alloc(8);
  const start = performance.now();
  let now = start;
  let attempts = 0;
  do {
    for (let i = 0; i < 1024; i++) {
      nonce.writeUInt32BE(attempts + i, 4);
      const digest = createHash('sha256').update(publicKey).update(nonce).digest();
      if (digest[0] === 0 && digest[1] === 0 && digest[2] === 0 && digest[3] === 0) break; // keep the result live
    }
    attempts += 1024;
    now = performance.now();
  } while (now - start < ms);
  return attempts / ((now - start) / 1000);
}


export default async function pow(): Promise<BenchResult> {
  measureHashRate(ROUND_MS / 3); // warm up the JIT
  freshCreateHashRate(ROUND_MS / 3);
  const ours: number[] = [];
  const fresh: number[] = [];
  for (let r = 0; r < ROUNDS; r++) {
    ours.push(measureHashRate(ROUND_MS));
    fresh.push(freshCreateHashRate(ROUND_MS));
  }
  const hashesPerSec = median(ours);
  const expectedSecondsHere = expectedPowSeconds(DEFAULT_POW_DIFFICULTY, hashesPerSec);
  return {
    hashesPerSec: Math.round(hashesPerSec),
    vsFreshCreateHash: round(hashesPerSec / median(fresh), 2),
    difficulty: DEFAULT_POW_DIFFICULTY,
    expectedSecondsHere: round(expectedSecondsHere),
    pi4Slowdown: PI4_POW_SLOWDOWN,
    expectedSecondsPi4: round(expectedSecondsHere * PI4_POW_SLOWDOWN),
  };
}
