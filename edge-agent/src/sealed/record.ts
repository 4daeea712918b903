/**
 * The sealing core, without I/O: makes state 0 of a record and each next
 * state. Attributes that change get a fresh key and blob; unchanged ones keep
 * theirs and are wrapped only for readers they did not have; an attribute
 * that loses any reader gets a fresh key, so a removed member cannot read any
 * later state. Returns the signed state and only the new blobs and wraps.
 */
import { SECRET_KEY_LENGTH, publicKeyOf } from '../identity/index.js';
import { keyCheckOf, openAttribute, sealAttribute } from './attribute.js';
import { SealedError } from './errors.js';
import { MAX_ATTRIBUTES, RECORD_ID_BYTES, requireBytes, requireName, requirePlaintext } from './limits.js';
import { memberId, readersOf } from './policy.js';
import { equalBytes, freshBytes, wipe } from './primitives.js';
import { checkBody, signState, stateHash, STATE_VERSION, type AttributeEntry, type PublicValue, type Role, type SealedState, type StateBody } from './state.js';
import { wrapKey, type WrappedKey } from './wrap.js';

export interface SealedBlob {
  readonly commitment: Uint8Array;
  readonly blob: Uint8Array;
}

export interface SealOutput {
  readonly state: SealedState;
  /** Blobs this state introduced (content-addressed by commitment). */
  readonly blobs: readonly SealedBlob[];
  /** Wraps this state introduced; wraps of carried keys stay valid under their key state. */
  readonly wraps: readonly WrappedKey[];
}

export interface NewRecord {
  /** The author's identity secret key; the author must be among the writers. */
  readonly secretKey: Uint8Array;
  /** 32-byte record id; random when absent. */
  readonly record?: Uint8Array;
  /** Identity public keys of the members (the author included if it reads or writes). */
  readonly members: readonly Uint8Array[];
  /** Member ids who may sign the next state; the author alone when absent. */
  readonly writers?: readonly string[];
  readonly roles: Readonly<Record<string, Role>>;
  readonly public?: Readonly<Record<string, PublicValue>>;
  /** Private attributes: name → plaintext (the caller keeps and wipes its copies). */
  readonly private: Readonly<Record<string, Uint8Array>>;
}

export interface Change {
  /** Replaces the member list when present. */
  readonly members?: readonly Uint8Array[];
  readonly writers?: readonly string[];
  /** Replaces the roles when present. */
  readonly roles?: Readonly<Record<string, Role>>;
  /** Replaces the public fields when present. */
  readonly public?: Readonly<Record<string, PublicValue>>;
  /** New or changed private attributes. */
  readonly set?: Readonly<Record<string, Uint8Array>>;
  /** Private attributes to drop. */
  readonly delete?: readonly string[];
}

/**
 * Where the author gets what it needs of the previous state: the key of a
 * carried attribute (to wrap it for new readers, or to re-seal the attribute
 * under a fresh key) and its blob. Keys handed over are wiped after use.
 */
export interface PreviousMaterial {
  key(attribute: string, entry: AttributeEntry): Uint8Array;
  blob(commitment: Uint8Array): Uint8Array;
}

function requireObject(value: unknown, what: string): void {
  if (typeof value !== 'object' || value === null) throw new SealedError('BAD_ARGUMENT', `${what} must be an object`);
}

function membersMap(keys: readonly Uint8Array[]): Record<string, Uint8Array> {
  if (!Array.isArray(keys)) throw new SealedError('BAD_ARGUMENT', 'members must be an array of public keys');
  const out: Record<string, Uint8Array> = {};
  for (const key of keys) out[memberId(key)] = key;
  return out;
}

function requireAttributes(values: Readonly<Record<string, Uint8Array>>, what: string): [string, Uint8Array][] {
  requireObject(values, what);
  const entries = Object.entries(values);
  if (entries.length > MAX_ATTRIBUTES) throw new SealedError('BAD_ARGUMENT', `${what}: at most ${MAX_ATTRIBUTES} attributes`);
  for (const [name, value] of entries) {
    requireName(name, `${what} name`);
    requirePlaintext(value, `${what}.${name}`);
  }
  return entries;
}

/** Seals `plaintext` under a fresh key made in state `n` and wraps it for `readers`. */
function sealFresh(
  body: { record: Uint8Array; members: Record<string, Uint8Array> },
  n: number,
  name: string,
  plaintext: Uint8Array,
  readers: readonly string[],
  blobs: SealedBlob[],
  wraps: WrappedKey[],
): AttributeEntry {
  const sealed = sealAttribute(body.record, n, name, plaintext);
  try {
    for (const m of readers) wraps.push(wrapKey(sealed.key, body.members[m]!, body.record, n, name));
  } finally {
    wipe(sealed.key);
  }
  blobs.push({ commitment: sealed.commitment, blob: sealed.blob });
  return { commitment: sealed.commitment, keyState: n, keyCheck: sealed.keyCheck };
}

function requireSecret(secretKey: unknown): Uint8Array {
  return requireBytes(secretKey, SECRET_KEY_LENGTH, 'author secret key');
}

/** State 0 of a new record. */
export function createRecord(input: NewRecord): SealOutput {
  requireObject(input, 'new record');
  const secretKey = requireSecret(input.secretKey);
  const author = publicKeyOf(secretKey);
  const record = input.record === undefined ? freshBytes(RECORD_ID_BYTES) : requireBytes(input.record, RECORD_ID_BYTES, 'record id');
  const members = membersMap(input.members);
  const attributes = requireAttributes(input.private, 'private');
  const writers = input.writers ?? [memberId(author)];
  if (!Array.isArray(writers) || !writers.includes(memberId(author))) throw new SealedError('BAD_ARGUMENT', 'the author of state 0 must be one of its writers');
  const skeleton: StateBody = {
    v: STATE_VERSION,
    record,
    n: 0,
    prev: null,
    author,
    writers,
    members,
    roles: input.roles,
    public: input.public ?? {},
    private: Object.fromEntries(attributes.map(([name]) => [name, placeholder])),
  };
  // Everything is checked before the first key is made: a bad input costs no sealing.
  validateRoles(skeleton);
  checkBody(skeleton);
  const blobs: SealedBlob[] = [];
  const wraps: WrappedKey[] = [];
  const priv: Record<string, AttributeEntry> = {};
  for (const [name, plaintext] of attributes) priv[name] = sealFresh(skeleton, 0, name, plaintext, readersOf(skeleton, name), blobs, wraps);
  return { state: signState({ ...skeleton, private: priv }, secretKey), blobs, wraps };
}

type Action = 'fresh' | 'keep' | 'rekey' | 'extend';

interface Plan {
  readonly skeleton: StateBody;
  readonly fresh: ReadonlyMap<string, Uint8Array>;
  /** Per attribute of the next state, sorted by name. */
  readonly actions: ReadonlyMap<string, Action>;
}

function planUpdate(prev: SealedState, change: Change, author: Uint8Array): Plan {
  requireObject(prev, 'previous state');
  requireObject(change, 'change');
  const n = prev.n + 1;
  const set = requireAttributes(change.set ?? {}, 'set');
  if (change.delete !== undefined && !Array.isArray(change.delete)) throw new SealedError('BAD_ARGUMENT', 'delete must be an array of attribute names');
  const deleted = new Set(change.delete ?? []);
  for (const name of deleted) if (!Object.hasOwn(prev.private, name)) throw new SealedError('UNKNOWN_ATTRIBUTE', `cannot delete ${name}: not an attribute of state ${prev.n}`);
  const names = [...new Set([...Object.keys(prev.private).filter((a) => !deleted.has(a)), ...set.map(([a]) => a)])].sort();
  const skeleton: StateBody = {
    v: STATE_VERSION,
    record: prev.record,
    n,
    prev: stateHash(prev),
    author,
    writers: change.writers ?? prev.writers,
    members: change.members === undefined ? { ...prev.members } : membersMap(change.members),
    roles: change.roles ?? prev.roles,
    public: change.public ?? prev.public,
    private: Object.fromEntries(names.map((a) => [a, placeholder])),
  };
  validateRoles(skeleton);
  checkBody(skeleton);
  const fresh = new Map(set);
  const actions = new Map<string, Action>();
  for (const name of names) {
    if (fresh.has(name)) {
      actions.set(name, 'fresh');
      continue;
    }
    const readers = readersOf(skeleton, name);
    const before = new Set(readersOf(prev, name));
    // A member id is the hash of its key, so a reader kept is the same key kept.
    if ([...before].some((m) => !readers.includes(m))) actions.set(name, 'rekey');
    else if (readers.some((m) => !before.has(m))) actions.set(name, 'extend');
    else actions.set(name, 'keep');
  }
  return { skeleton, fresh, actions };
}

/**
 * What updateRecord will ask `material` for: attributes whose key it needs
 * (`keys`) and those whose blob it needs too, to re-seal them (`blobs`).
 */
export function materialNeeded(prev: SealedState, change: Change, authorPublicKey: Uint8Array): { keys: string[]; blobs: string[] } {
  const { actions } = planUpdate(prev, change, authorPublicKey);
  const keys = [...actions].filter(([, a]) => a === 'rekey' || a === 'extend').map(([name]) => name);
  return { keys, blobs: keys.filter((name) => actions.get(name) === 'rekey') };
}

/** The next state after `prev`, signed by `secretKey` (one of prev's writers). */
export function updateRecord(prev: SealedState, change: Change, secretKey: Uint8Array, material?: PreviousMaterial): SealOutput {
  requireSecret(secretKey);
  const author = publicKeyOf(secretKey);
  requireObject(prev, 'previous state');
  if (!Array.isArray(prev.writers) || !prev.writers.includes(memberId(author))) {
    throw new SealedError('NOT_AUTHORIZED', `state ${prev.n} does not allow this author to write the next state`);
  }
  const { skeleton, fresh, actions } = planUpdate(prev, change, author);
  const n = skeleton.n;
  const blobs: SealedBlob[] = [];
  const wraps: WrappedKey[] = [];
  const priv: Record<string, AttributeEntry> = {};
  for (const [name, action] of actions) {
    const readers = readersOf(skeleton, name);
    if (action === 'fresh') {
      priv[name] = sealFresh(skeleton, n, name, fresh.get(name)!, readers, blobs, wraps);
      continue;
    }
    const entry = prev.private[name]!;
    if (action === 'keep') {
      priv[name] = entry; // same key, same blob, the old wraps still serve
      continue;
    }
    if (material === undefined) throw new SealedError('BAD_ARGUMENT', `attribute ${name} changes readers: the previous key (and blob) are needed`);
    const key = material.key(name, entry);
    try {
      requireBytes(key, 32, `key of ${name}`);
      if (action === 'rekey') {
        // Someone lost access: a fresh key, so whatever they kept opens nothing from here on.
        const plaintext = openAttribute(prev.record, entry.keyState, name, key, material.blob(entry.commitment), entry);
        try {
          priv[name] = sealFresh(skeleton, n, name, plaintext, readers, blobs, wraps);
        } finally {
          wipe(plaintext);
        }
      } else {
        // Only new readers: the same key, wrapped for them under its own key state.
        if (!equalBytes(keyCheckOf(prev.record, entry.keyState, name, key), entry.keyCheck)) {
          throw new SealedError('BAD_KEY', `attribute ${name}: the key given is not the one state ${prev.n} commits to`);
        }
        const before = new Set(readersOf(prev, name));
        for (const m of readers) if (!before.has(m)) wraps.push(wrapKey(key, skeleton.members[m]!, prev.record, entry.keyState, name));
        priv[name] = entry;
      }
    } finally {
      wipe(key);
    }
  }
  return { state: signState({ ...skeleton, private: priv }, secretKey), blobs, wraps };
}

// Stands in for an attribute entry while the roles are checked, before any key exists.
const placeholder: AttributeEntry = Object.freeze({ commitment: new Uint8Array(32), keyState: 0, keyCheck: new Uint8Array(32) });

/** Roles must name known attributes and members; checked before any key is made. */
function validateRoles(body: StateBody): void {
  requireObject(body.roles, 'roles');
  for (const [r, role] of Object.entries(body.roles)) {
    requireName(r, 'role name');
    requireObject(role, `role ${r}`);
    if (!Array.isArray(role.attributes) || !Array.isArray(role.members)) throw new SealedError('BAD_ARGUMENT', `role ${r} needs attributes and members arrays`);
    for (const a of role.attributes) if (typeof a !== 'string' || !Object.hasOwn(body.private, a)) throw new SealedError('BAD_ARGUMENT', `role ${r} names unknown attribute ${String(a)}`);
    for (const m of role.members) if (typeof m !== 'string' || !Object.hasOwn(body.members, m)) throw new SealedError('BAD_ARGUMENT', `role ${r} names a member that is not in the member list`);
  }
}
