/** Who reads what: the readers of an attribute are the members of every role that names it. */
import { isValidPublicKey, peerIdOf, toHex } from '../identity/index.js';
import { SealedError } from './errors.js';
import type { StateBody } from './state.js';

/** Member ids that may read `attribute` in `state`, sorted. */
export function readersOf(state: StateBody, attribute: string): string[] {
  const out = new Set<string>();
  for (const role of Object.values(state.roles)) {
    if (role.attributes.includes(attribute)) for (const m of role.members) out.add(m);
  }
  return [...out].sort();
}

/** Attributes `member` may read in `state`, sorted. */
export function readableBy(state: StateBody, member: string): string[] {
  return Object.keys(state.private)
    .filter((a) => readersOf(state, a).includes(member))
    .sort();
}

/** A member's id: the hex SHA-256 of its compressed identity public key (its peer id). */
export function memberId(publicKey: Uint8Array): string {
  if (!isValidPublicKey(publicKey)) throw new SealedError('BAD_ARGUMENT', 'a member public key is a 33-byte compressed secp256k1 point');
  return toHex(peerIdOf(publicKey));
}
