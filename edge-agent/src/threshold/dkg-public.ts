import { ed25519_FROST } from '@noble/curves/ed25519.js';
import type { FrostPublic, FrostSecret } from '@noble/curves/abstract/frost.js';
import { ThresholdError } from './errors.js';
import type { DealingCache } from './dkg-cache.js';
import { hex } from './dkg-messages.js';
import type { Participant } from './dkg-types.js';
import { evalCommitment, Fn, pointFromBytes, scalarToBytes, type EdPoint } from './vss.js';

/** noble's identifier for index i: the 32-byte little-endian scalar, as hex. */
export function identifierOf(index: number): string {
  return ed25519_FROST.Identifier.fromNumber(index);
}

/** The index behind a noble identifier made by Identifier.fromNumber (small indices only). */
export function indexOfIdentifier(id: string): number {
  if (typeof id !== 'string' || !/^[0-9a-f]{64}$/.test(id)) throw new ThresholdError('BAD_ARGUMENT', `identifier ${String(id)} is not 64 hex digits`);
  let n = 0n;
  for (let i = 31; i >= 0; i--) n = (n << 8n) | BigInt(parseInt(id.slice(2 * i, 2 * i + 2), 16));
  if (n < 1n || n > 0xffffffffn) throw new ThresholdError('BAD_ARGUMENT', `identifier ${id} is not a member number (1..2^32-1)`);
  return Number(n);
}

export function secretOf(index: number, share: bigint): FrostSecret {
  return { identifier: identifierOf(index), signingShare: Uint8Array.from(scalarToBytes(share)) };
}

/**
 * The public package noble's ed25519_FROST signs with: the combined commitments and one
 * verifying share per member that keeps a share. Throws if a combined commitment is the
 * identity (a degenerate sharing, which FROST's element encoding refuses).
 */
export function buildPublic(commitments: readonly EdPoint[], members: readonly Participant[], threshold: number, max: number, cache?: DealingCache): FrostPublic {
  const compute = (): FrostPublic => {
    if (commitments.some((p) => p.is0())) throw new ThresholdError('ABORTED', 'a combined commitment is the identity point');
    const verifyingShares: Record<string, Uint8Array<ArrayBuffer>> = {};
    for (const m of [...members].sort((a, b) => a.index - b.index)) {
      verifyingShares[identifierOf(m.index)] = Uint8Array.from(evalCommitment(commitments, BigInt(m.index)).toBytes());
    }
    return { signers: { min: threshold, max }, commitments: commitments.map((p) => Uint8Array.from(p.toBytes())), verifyingShares };
  };
  if (cache === undefined) return compute();
  const key = `pub:${threshold}:${max}:${commitments.map((p) => hex(p.toBytes())).join('')}:${members.map((m) => m.index).join(',')}`;
  const pub = cache.memo(key, compute);
  // Callers may keep and change what they get: hand out copies.
  return {
    signers: { ...pub.signers },
    commitments: pub.commitments.map((c) => Uint8Array.from(c)),
    verifyingShares: Object.fromEntries(Object.entries(pub.verifyingShares).map(([k, v]) => [k, Uint8Array.from(v)])),
  };
}

/** Parses and checks a public package we were given (for refresh and resharing). */
export function parsePublic(pub: FrostPublic): { commitments: EdPoint[]; threshold: number; max: number; members: Participant[] } {
  if (typeof pub !== 'object' || pub === null || typeof pub.signers !== 'object' || pub.signers === null) throw new ThresholdError('BAD_ARGUMENT', 'public package must be an object with signers');
  const { min, max } = pub.signers;
  if (!Number.isSafeInteger(min) || !Number.isSafeInteger(max) || min < 2 || max < min) throw new ThresholdError('BAD_ARGUMENT', 'public.signers must have 2 <= min <= max');
  if (!Array.isArray(pub.commitments) || pub.commitments.length !== min) throw new ThresholdError('BAD_ARGUMENT', `public.commitments must hold ${min} points`);
  const commitments = pub.commitments.map((c) => pointFromBytes(c));
  const members: Participant[] = [];
  for (const [id, vs] of Object.entries(pub.verifyingShares ?? {})) {
    const index = indexOfIdentifier(id);
    if (!pointFromBytes(vs).equals(evalCommitment(commitments, BigInt(index)))) {
      throw new ThresholdError('BAD_SHARE', `verifying share of member ${index} does not match the commitments`, { culprits: [String(index)] });
    }
    members.push({ party: index, index });
  }
  members.sort((a, b) => a.index - b.index);
  return { commitments, threshold: min, max, members };
}

/** The scalar of a FrostSecret after checking it against the public package. */
export function parseSecret(secret: FrostSecret, pub: FrostPublic): { index: number; share: bigint } {
  try {
    ed25519_FROST.validateSecret(secret, pub);
  } catch (err) {
    throw new ThresholdError('BAD_SHARE', `share does not match the public package: ${err instanceof Error ? err.message : String(err)}`);
  }
  return { index: indexOfIdentifier(secret.identifier), share: Fn.fromBytes(secret.signingShare) };
}
