/** Shared helpers for the commands tests (not a test file itself). */
import { mkdtemp, rm } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ExecutionContext } from 'ava';
import { ed25519 } from '@noble/curves/ed25519.js';
import { ManualClock } from '../../src/clock/index.js';
import { generateKeyPair, sign as ecdsaSign, toHex } from '../../src/identity/index.js';
import {
  CommandVerifier,
  ReplayGuard,
  operatorPublicKey,
  parseOperatorKey,
  type CommandVerifierOptions,
  type KeyAlgorithm,
  type OperatorKey,
  type ReplayGuardOptions,
} from '../../src/commands/index.js';

export const FLEET = 'alpha';
export const PEER_ID = toHex(new Uint8Array(32).fill(0xab));
export const OTHER_PEER_ID = toHex(new Uint8Array(32).fill(0xcd));
/** 2024-01-01T00:00:00Z: far from 0, so "issued before" and "expired" have room. */
export const START = 1_704_067_200_000;

export interface Operator {
  readonly algorithm: KeyAlgorithm;
  readonly secretKey: Uint8Array;
  readonly key: OperatorKey;
}

export function makeOperator(algorithm: KeyAlgorithm): Operator {
  const secretKey = algorithm === 'secp256k1' ? generateKeyPair().secretKey : new Uint8Array(randomBytes(32));
  return { algorithm, secretKey, key: parseOperatorKey(toHex(operatorPublicKey(algorithm, secretKey))) };
}

/** A raw signature by `secretKey` over `message`, for forging and hand-built messages. */
export function rawSign(algorithm: KeyAlgorithm, secretKey: Uint8Array, message: Uint8Array): Uint8Array {
  return algorithm === 'secp256k1' ? ecdsaSign(secretKey, message) : ed25519.sign(message, secretKey);
}

export const ALGORITHMS: readonly KeyAlgorithm[] = ['secp256k1', 'ed25519'];

export interface Setup {
  readonly clock: ManualClock;
  readonly guard: ReplayGuard;
  readonly verifier: CommandVerifier;
  readonly secp: Operator;
  readonly ed: Operator;
}

export async function setup(
  opts: { guard?: Partial<Omit<ReplayGuardOptions, 'clock'>>; verifier?: Partial<CommandVerifierOptions> } = {},
): Promise<Setup> {
  const clock = new ManualClock(START);
  const secp = makeOperator('secp256k1');
  const ed = makeOperator('ed25519');
  const { guard } = await ReplayGuard.open({ clock, ...opts.guard });
  const verifier = new CommandVerifier({
    fleet: FLEET,
    peerId: PEER_ID,
    operators: [secp.key, ed.key],
    clock,
    replay: guard,
    ...opts.verifier,
  });
  return { clock, guard, verifier, secp, ed };
}

export function operatorOf(s: Setup, algorithm: KeyAlgorithm): Operator {
  return algorithm === 'secp256k1' ? s.secp : s.ed;
}

/** A fresh directory under the system temp dir, removed when the test ends. */
export async function tempDir(t: ExecutionContext, prefix = 'edge-commands-'): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

export function hex(s: string): Uint8Array {
  return Uint8Array.from(Buffer.from(s, 'hex'));
}

/** Offset of `needle` in `haystack`, or -1. */
export function indexOf(haystack: Uint8Array, needle: Uint8Array): number {
  return Buffer.from(haystack).indexOf(Buffer.from(needle));
}
