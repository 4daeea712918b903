/**
 * A state of a sealed record: public fields, the commitments of its private
 * attributes, the members (by identity key), the roles that say who reads
 * what, and the writers who may sign the next state. States are canonical
 * CBOR, signed by their author's identity key over a domain label, and
 * chained: each names the SHA-256 of its predecessor's encoding.
 */
import * as s from '../schema/index.js';
import { PUBLIC_KEY_LENGTH, SIGNATURE_LENGTH, isValidPublicKey, peerIdOf, sign, toHex, verify } from '../identity/index.js';
import { decodeCanonical, encodeCanonical, WireError } from '../wire/index.js';
import { STATE_LABEL } from './context.js';
import { SealedError } from './errors.js';
import {
  MAX_ATTRIBUTES,
  MAX_MEMBERS,
  MAX_PUBLIC_BYTES,
  MAX_PUBLIC_FIELDS,
  MAX_ROLES,
  MAX_STATE_BYTES,
  MAX_STATE_NUMBER,
  MAX_WRITERS,
  MEMBER_PATTERN,
  NAME_PATTERN,
  RECORD_ID_BYTES,
} from './limits.js';
import { HASH_BYTES, equalBytes, sha256 } from './primitives.js';

export const STATE_VERSION = 1;

/** A public field: plain scalars and bytes, nothing nested. */
export type PublicValue = string | number | boolean | null | Uint8Array;

export interface Role {
  /** The private attributes this role reads. */
  readonly attributes: readonly string[];
  /** Member ids (hex peer ids) in the role. */
  readonly members: readonly string[];
}

export interface AttributeEntry {
  /** SHA-256 of the sealed blob. */
  readonly commitment: Uint8Array;
  /** The state whose update made the key (and the blob); later states may carry both unchanged. */
  readonly keyState: number;
  /** SHA-256 over the key in its context: tells a genuine unwrapped key from a forged one. */
  readonly keyCheck: Uint8Array;
}

export interface StateBody {
  readonly v: typeof STATE_VERSION;
  readonly record: Uint8Array;
  readonly n: number;
  /** SHA-256 of the previous state's encoding; null for state 0. */
  readonly prev: Uint8Array | null;
  /** Identity public key of the member who signed this state. */
  readonly author: Uint8Array;
  /** Member ids allowed to sign the next state. */
  readonly writers: readonly string[];
  /** Member id → identity public key (33 bytes); the id must be SHA-256 of the key. */
  readonly members: Readonly<Record<string, Uint8Array>>;
  readonly roles: Readonly<Record<string, Role>>;
  readonly public: Readonly<Record<string, PublicValue>>;
  readonly private: Readonly<Record<string, AttributeEntry>>;
}

export interface SealedState extends StateBody {
  readonly sig: Uint8Array;
}

const name = s.text({ min: 1, max: 64, pattern: NAME_PATTERN });
const member = s.text({ min: 64, max: 64, pattern: MEMBER_PATTERN });

/** A map with schema-checked keys and values, bounded in size. */
function record<T>(key: s.Schema<string>, value: s.Schema<T>, max: number): s.Schema<Record<string, T>> {
  const expected = `a map of at most ${max} entries`;
  return {
    expected,
    parse(v: unknown, path = ''): Record<string, T> {
      if (typeof v !== 'object' || v === null || Array.isArray(v) || v instanceof Uint8Array) throw new s.SchemaError(path, expected, s.describe(v));
      const entries = Object.entries(v);
      if (entries.length > max) throw new s.SchemaError(path, expected, `${entries.length} entries`);
      const out: Record<string, T> = Object.create(null) as Record<string, T>;
      for (const [k, item] of entries) {
        const at = path === '' ? k : `${path}.${k}`;
        key.parse(k, at);
        out[k] = value.parse(item, at);
      }
      return { ...out };
    },
  };
}

const publicValue: s.Schema<PublicValue> = {
  expected: `a string, number, boolean, null or bytes of at most ${MAX_PUBLIC_BYTES}`,
  parse(v: unknown, path = ''): PublicValue {
    if (v === null || typeof v === 'boolean') return v;
    if (typeof v === 'number' && Number.isFinite(v)) return v;
    if (typeof v === 'string' && Buffer.byteLength(v) <= MAX_PUBLIC_BYTES) return v;
    if (v instanceof Uint8Array && v.length <= MAX_PUBLIC_BYTES) return v;
    throw new s.SchemaError(path, this.expected, s.describe(v));
  },
};

const role = s.object({ attributes: s.array(name, { max: MAX_ATTRIBUTES }), members: s.array(member, { max: MAX_MEMBERS }) });
const attributeEntry = s.object({
  commitment: s.bytes({ len: HASH_BYTES }),
  keyState: s.int({ min: 0, max: MAX_STATE_NUMBER }),
  keyCheck: s.bytes({ len: HASH_BYTES }),
});
const publicKey = s.refine(s.bytes({ len: PUBLIC_KEY_LENGTH }), 'a compressed secp256k1 point', (k) => isValidPublicKey(k));

const bodyShape = {
  v: s.oneOf([STATE_VERSION] as const),
  record: s.bytes({ len: RECORD_ID_BYTES }),
  n: s.int({ min: 0, max: MAX_STATE_NUMBER }),
  prev: s.nullable(s.bytes({ len: HASH_BYTES })),
  author: publicKey,
  writers: s.array(member, { min: 1, max: MAX_WRITERS }),
  members: record(member, publicKey, MAX_MEMBERS),
  roles: record(name, role, MAX_ROLES),
  public: record(name, publicValue, MAX_PUBLIC_FIELDS),
  private: record(name, attributeEntry, MAX_ATTRIBUTES),
};
const bodySchema = s.object(bodyShape);
const stateSchema = s.object({ ...bodyShape, sig: s.bytes({ len: SIGNATURE_LENGTH }) });

/** Cross-field rules the schema cannot say; throws MALFORMED naming the first one broken. */
function checkConsistent(st: StateBody, code: 'MALFORMED' | 'BAD_ARGUMENT'): void {
  const bad = (why: string): never => {
    throw new SealedError(code, `state ${st.n}: ${why}`);
  };
  if ((st.n === 0) !== (st.prev === null)) bad('state 0, and only it, has no previous hash');
  for (const [id, key] of Object.entries(st.members)) if (toHex(peerIdOf(key)) !== id) bad(`member ${id.slice(0, 8)} is not the hash of its key`);
  for (const w of st.writers) if (!Object.hasOwn(st.members, w)) bad(`writer ${w.slice(0, 8)} is not a member`);
  if (new Set(st.writers).size !== st.writers.length) bad('a writer is listed twice');
  for (const [r, def] of Object.entries(st.roles)) {
    for (const a of def.attributes) if (!Object.hasOwn(st.private, a)) bad(`role ${r} names unknown attribute ${a}`);
    for (const m of def.members) if (!Object.hasOwn(st.members, m)) bad(`role ${r} names unknown member ${m.slice(0, 8)}`);
    if (new Set(def.attributes).size !== def.attributes.length || new Set(def.members).size !== def.members.length) bad(`role ${r} repeats an entry`);
  }
  for (const [a, entry] of Object.entries(st.private)) if (entry.keyState > st.n) bad(`attribute ${a} names a key from a later state`);
}

function schemaError(err: unknown): never {
  if (err instanceof s.SchemaError) throw new SealedError('MALFORMED', `state: ${err.message}`, { cause: err });
  throw err;
}

/** The canonical bytes a state's author signs: a domain label, then the body. */
export function signingBytes(body: StateBody): Uint8Array {
  return encodeCanonical([STATE_LABEL, body]);
}

/** Checks a body made locally against the schema and the cross-field rules; BAD_ARGUMENT names the first fault. */
export function checkBody(body: StateBody): StateBody {
  let parsed: StateBody;
  try {
    parsed = bodySchema.parse(body, 'state') as StateBody;
  } catch (err) {
    if (err instanceof s.SchemaError) throw new SealedError('BAD_ARGUMENT', `state: ${err.message}`, { cause: err });
    throw err;
  }
  checkConsistent(parsed, 'BAD_ARGUMENT');
  return parsed;
}

/** Validates `body`, signs it with the author's secret key and returns the signed state. */
export function signState(body: StateBody, secretKey: Uint8Array): SealedState {
  const parsed = checkBody(body);
  return { ...parsed, sig: sign(secretKey, signingBytes(parsed)) };
}

export function encodeState(state: SealedState): Uint8Array {
  return encodeCanonical(state);
}

/** SHA-256 of the state's canonical encoding: what the next state names as `prev`. */
export function stateHash(state: SealedState): Uint8Array {
  return sha256(encodeState(state));
}

function bodyOf(state: SealedState): StateBody {
  const { sig: _sig, ...body } = state;
  return body;
}

/**
 * Decodes a state from untrusted bytes: canonical CBOR within bounds, the
 * schema, the cross-field rules and the author's signature. Throws MALFORMED or BAD_SIGNATURE.
 */
export function decodeState(bytes: Uint8Array): SealedState {
  if (!(bytes instanceof Uint8Array)) throw new SealedError('BAD_ARGUMENT', 'state bytes must be a Uint8Array');
  let value: unknown;
  try {
    value = decodeCanonical(bytes, { maxBytes: MAX_STATE_BYTES, maxDepth: 5, maxItems: MAX_MEMBERS, maxStringBytes: MAX_PUBLIC_BYTES });
  } catch (err) {
    if (err instanceof WireError) throw new SealedError('MALFORMED', `state: ${err.message}`, { cause: err });
    throw err;
  }
  let state: SealedState;
  try {
    state = stateSchema.parse(value, 'state') as SealedState;
  } catch (err) {
    schemaError(err);
  }
  checkConsistent(state, 'MALFORMED');
  verifyStateSignature(state);
  return state;
}

/** Throws BAD_SIGNATURE unless the state is signed by its author. */
export function verifyStateSignature(state: SealedState): void {
  if (!verify(state.author, signingBytes(bodyOf(state)), state.sig)) throw new SealedError('BAD_SIGNATURE', `state ${state.n}: the signature does not verify under its author's key`);
}

/**
 * Checks that `next` may follow `prev`: same record, next number, `prev` hash
 * matches, and its author is one of the writers `prev` named. State 0 must be
 * signed by one of its own writers.
 */
export function verifySuccessor(prev: SealedState | undefined, next: SealedState): void {
  verifyStateSignature(next);
  const authorId = toHex(peerIdOf(next.author));
  if (prev === undefined) {
    if (next.n !== 0) throw new SealedError('BAD_CHAIN', `state ${next.n} given without its predecessor`);
    if (!next.writers.includes(authorId)) throw new SealedError('BAD_SIGNATURE', 'state 0 is not signed by one of its writers');
    return;
  }
  if (!equalBytes(prev.record, next.record)) throw new SealedError('BAD_CHAIN', 'the states belong to different records');
  if (next.n !== prev.n + 1) throw new SealedError('BAD_CHAIN', `state ${next.n} cannot follow state ${prev.n}`);
  if (next.prev === null || !equalBytes(next.prev, stateHash(prev))) throw new SealedError('BAD_CHAIN', `state ${next.n} does not name the hash of state ${prev.n}`);
  if (!prev.writers.includes(authorId)) throw new SealedError('BAD_SIGNATURE', `state ${next.n} is signed by a member state ${prev.n} does not allow to write`);
}

/** Checks a whole chain from state 0; throws at the first state that does not follow. */
export function verifyChain(states: readonly SealedState[]): void {
  if (!Array.isArray(states) || states.length === 0) throw new SealedError('BAD_ARGUMENT', 'a chain holds at least state 0');
  let prev: SealedState | undefined;
  for (const st of states) {
    verifySuccessor(prev, st);
    prev = st;
  }
}
