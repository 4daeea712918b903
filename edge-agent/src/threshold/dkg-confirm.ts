/**
 * Key confirmation after a dealing: every member signs a digest of what it
 * ended with (group key, public package, qualified set) and checks everyone
 * else's. The dealing is synchronous: if its timing assumption failed (a
 * message later than Δ counts as silence), honest members can end `done`
 * with different qualified sets and so different keys. This round turns that
 * into an abort instead of a split fleet. A member that does not confirm in
 * time is named; a difference cannot be blamed on anyone in particular.
 */
import { createHash } from 'node:crypto';
import { encodeCanonical } from '../wire/index.js';
import type { DkgDone } from './dkg-types.js';

const DOMAIN = 'edge-agent/threshold/dkg-confirm/v1';

/** sha256 over the canonical CBOR of what a member ended with. */
export function confirmationDigest(sessionId: Uint8Array, done: DkgDone): Uint8Array {
  const shares = Object.entries(done.public.verifyingShares).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  const body = encodeCanonical({
    domain: DOMAIN,
    sessionId,
    groupKey: done.groupKey,
    commitments: done.public.commitments.map((c) => Uint8Array.from(c)),
    verifyingShares: shares.map(([id, key]) => [id, Uint8Array.from(key)]),
    qualified: [...done.qualified],
  });
  return new Uint8Array(createHash('sha256').update(body).digest());
}

export type ConfirmState = { readonly kind: 'pending' } | { readonly kind: 'confirmed' } | { readonly kind: 'differ'; readonly members: readonly number[] };

/** The round's bookkeeping, without I/O: whose confirmations are needed, which came, whether they agree. */
export class ConfirmRound {
  readonly #required: ReadonlySet<number>;
  readonly #digest: Uint8Array;
  readonly #seen = new Map<number, boolean>();

  constructor(self: number, required: readonly number[], digest: Uint8Array) {
    this.#required = new Set(required.filter((m) => m !== self));
    this.#digest = digest;
  }

  /**
   * A member's (authenticated) digest; only the first counts. Only members we qualified are heard: one we
   * disqualified cannot force an abort by disagreeing, and a genuine split still shows, since the members on
   * the other side of it are qualified by both.
   */
  receive(member: number, digest: Uint8Array): void {
    if (!this.#required.has(member) || this.#seen.has(member)) return;
    this.#seen.set(member, digest.length === this.#digest.length && digest.every((b, i) => b === this.#digest[i]));
  }

  get state(): ConfirmState {
    const differ = [...this.#seen].filter(([, same]) => !same).map(([m]) => m);
    if (differ.length > 0) return { kind: 'differ', members: differ.sort((a, b) => a - b) };
    for (const m of this.#required) if (this.#seen.get(m) !== true) return { kind: 'pending' };
    return { kind: 'confirmed' };
  }

  /** Required members whose confirmation has not come. */
  missing(): number[] {
    return [...this.#required].filter((m) => !this.#seen.has(m)).sort((a, b) => a - b);
  }
}
