/**
 * Reading an attribute as a member: the policy check (is the member a reader
 * in this state?), then the member's wrap unwrapped with its identity secret
 * key, the key checked against the state, the blob against its commitment,
 * and only then the AEAD. Every key is wiped before returning.
 */
import { SECRET_KEY_LENGTH } from '../identity/index.js';
import { openAttribute } from './attribute.js';
import { SealedError } from './errors.js';
import { requireBytes, requireName } from './limits.js';
import { memberId, readersOf } from './policy.js';
import { equalBytes, wipe } from './primitives.js';
import type { AttributeEntry, SealedState } from './state.js';
import { unwrapKey, type WrappedKey } from './wrap.js';

export interface Reader {
  readonly secretKey: Uint8Array;
  readonly publicKey: Uint8Array;
}

/** The attribute's entry in `state`; UNKNOWN_ATTRIBUTE if it has none. */
export function entryOf(state: SealedState, attribute: string): AttributeEntry {
  requireName(attribute, 'attribute name');
  if (!Object.hasOwn(state.private, attribute)) throw new SealedError('UNKNOWN_ATTRIBUTE', `state ${state.n} has no attribute ${attribute}`);
  return state.private[attribute]!;
}

/** Throws NOT_AUTHORIZED unless `member` reads `attribute` in `state`. */
export function requireReader(state: SealedState, attribute: string, member: string): void {
  if (!readersOf(state, attribute).includes(member)) {
    throw new SealedError('NOT_AUTHORIZED', `member ${member.slice(0, 8)} may not read ${attribute} in state ${state.n}`);
  }
}

/** The plaintext of `attribute` in `state`, for `reader`, from its wrap and the blob. The caller wipes it. */
export function openSealed(state: SealedState, attribute: string, reader: Reader, wrap: WrappedKey, blob: Uint8Array): Uint8Array {
  const entry = entryOf(state, attribute);
  requireBytes(reader?.secretKey, SECRET_KEY_LENGTH, 'reader secret key');
  const id = memberId(reader.publicKey);
  requireReader(state, attribute, id);
  if (typeof wrap !== 'object' || wrap === null) throw new SealedError('BAD_ARGUMENT', 'wrap must be a wrapped key');
  if (!equalBytes(wrap.record, state.record) || wrap.keyState !== entry.keyState || wrap.attribute !== attribute || wrap.member !== id) {
    throw new SealedError('BAD_ARGUMENT', `the wrap given is not ${id.slice(0, 8)}'s wrap of ${attribute} under key state ${entry.keyState}`);
  }
  const key = unwrapKey(wrap, reader.secretKey);
  try {
    return openAttribute(state.record, entry.keyState, attribute, key, blob, entry);
  } finally {
    wipe(key);
  }
}
