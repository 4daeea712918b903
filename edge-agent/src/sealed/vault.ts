/**
 * A node's sealed records at rest: per record, its verified chain of states,
 * the blobs it holds (content-addressed by commitment) and the wrapped keys,
 * all kept in the record's RecordStorage (encrypted under its storage keys).
 * Any node may hold any record's blobs and wraps; only readers can open them.
 *
 * Layout: `<dir>/<record hex>/` per record; entries `state/<n>`,
 * `blob/<commitment hex>` and `wrap/<key state>/<attribute>/<member>`.
 */
import { mkdir, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { toHex } from '../identity/index.js';
import { checkCommitment } from './attribute.js';
import { SealedError } from './errors.js';
import { HASH_BYTES, equalBytes, wipe } from './primitives.js';
import { RECORD_ID_BYTES, requireBytes, requireMember, requireName, requireStateNumber } from './limits.js';
import { entryOf, openSealed, type Reader } from './open.js';
import { memberId } from './policy.js';
import { materialNeeded, updateRecord, type Change, type SealOutput } from './record.js';
import { decodeState, encodeState, stateHash, verifySuccessor, type SealedState } from './state.js';
import { RecordStorage } from './storage.js';
import { decodeWrappedKey, encodeWrappedKey, unwrapKey, type WrappedKey } from './wrap.js';

const RECORD_DIR = /^[0-9a-f]{64}$/;

interface Held {
  readonly storage: RecordStorage;
  readonly states: SealedState[];
}

export class SealedVault {
  readonly #dir: string;
  readonly #records = new Map<string, Held>();
  /** Commitment hex → record hex, for serving blobs by commitment alone. */
  readonly #blobs = new Map<string, string>();
  readonly #opening = new Map<string, Promise<Held>>();
  #closed = false;

  private constructor(dir: string) {
    this.#dir = dir;
  }

  /** Opens the vault in `dir` (created 0700 when absent), loading and re-verifying every chain. */
  static async open(dir: string): Promise<SealedVault> {
    if (typeof dir !== 'string' || dir === '') throw new SealedError('BAD_ARGUMENT', 'vault dir must be a non-empty path');
    await mkdir(dir, { recursive: true, mode: 0o700 });
    const vault = new SealedVault(dir);
    for (const name of await readdir(dir)) {
      if (!RECORD_DIR.test(name)) continue;
      const held = await vault.#hold(Uint8Array.from(Buffer.from(name, 'hex')));
      for (let n = 0; ; n++) {
        const bytes = await held.storage.get(`state/${n}`);
        if (bytes === undefined) break;
        const state = decodeState(bytes);
        verifySuccessor(held.states[n - 1], state);
        held.states.push(state);
      }
      for (const key of held.storage.keys()) if (key.startsWith('blob/')) vault.#blobs.set(key.slice(5), name);
    }
    return vault;
  }

  /** Hex ids of the records held. */
  records(): string[] {
    return [...this.#records.keys()].sort();
  }

  latest(record: Uint8Array): SealedState | undefined {
    const states = this.#records.get(this.#recordHex(record))?.states;
    return states?.[states.length - 1];
  }

  state(record: Uint8Array, n: number): SealedState | undefined {
    requireStateNumber(n, 'state number');
    return this.#records.get(this.#recordHex(record))?.states[n];
  }

  /** The storage of a record held here (to rotate its storage key, migrate, report epochs). */
  storage(record: Uint8Array): RecordStorage {
    const held = this.#records.get(this.#recordHex(record));
    if (held === undefined) throw new SealedError('NOT_FOUND', `no record ${this.#recordHex(record).slice(0, 8)} here`);
    return held.storage;
  }

  /**
   * Appends a state after verifying it follows the latest one held (state 0
   * starts a record). A state already held with the same hash is accepted again.
   */
  async addState(state: SealedState): Promise<void> {
    this.#requireOpen();
    const bytes = encodeState(state);
    const checked = decodeState(bytes); // the same strict path as a state off the wire
    const held = await this.#hold(checked.record);
    const have = held.states[checked.n];
    if (have !== undefined) {
      if (!equalBytes(stateHash(have), stateHash(checked))) throw new SealedError('BAD_CHAIN', `a different state ${checked.n} is already held (a fork)`);
      return;
    }
    verifySuccessor(held.states[checked.n - 1], checked);
    if (checked.n !== held.states.length) throw new SealedError('BAD_CHAIN', `state ${checked.n} arrived before state ${held.states.length}`);
    await held.storage.put(`state/${checked.n}`, bytes);
    held.states.push(checked);
  }

  /** Stores a blob under its commitment; BAD_COMMITMENT if it does not hash to it. */
  async addBlob(record: Uint8Array, commitment: Uint8Array, blob: Uint8Array): Promise<void> {
    this.#requireOpen();
    checkCommitment(blob, commitment);
    const held = await this.#hold(requireBytes(record, RECORD_ID_BYTES, 'record id'));
    const hex = toHex(commitment);
    await held.storage.put(`blob/${hex}`, blob);
    this.#blobs.set(hex, toHex(record));
  }

  hasBlob(commitment: Uint8Array): boolean {
    return this.#blobs.has(toHex(requireBytes(commitment, HASH_BYTES, 'commitment')));
  }

  /** The blob with this commitment, re-checked against it on the way out (storage is not trusted blindly). */
  async blob(commitment: Uint8Array): Promise<Uint8Array | undefined> {
    this.#requireOpen();
    const hex = toHex(requireBytes(commitment, HASH_BYTES, 'commitment'));
    const record = this.#blobs.get(hex);
    if (record === undefined) return undefined;
    const blob = await this.#records.get(record)!.storage.get(`blob/${hex}`);
    if (blob !== undefined) checkCommitment(blob, commitment);
    return blob;
  }

  async addWrap(wrap: WrappedKey): Promise<void> {
    this.#requireOpen();
    const bytes = encodeWrappedKey(wrap);
    const held = await this.#hold(wrap.record);
    await held.storage.put(wrapEntry(wrap.keyState, wrap.attribute, wrap.member), bytes);
  }

  async wrap(record: Uint8Array, keyState: number, attribute: string, member: string): Promise<WrappedKey | undefined> {
    this.#requireOpen();
    requireStateNumber(keyState, 'key state');
    requireName(attribute, 'attribute name');
    requireMember(member, 'member');
    const held = this.#records.get(this.#recordHex(record));
    const bytes = await held?.storage.get(wrapEntry(keyState, attribute, member));
    return bytes === undefined ? undefined : decodeWrappedKey(bytes);
  }

  /** Stores everything a sealing call produced: the state, its new blobs and wraps. */
  async addSealed(out: SealOutput): Promise<void> {
    if (typeof out !== 'object' || out === null) throw new SealedError('BAD_ARGUMENT', 'expected the output of createRecord or updateRecord');
    for (const b of out.blobs) await this.addBlob(out.state.record, b.commitment, b.blob);
    for (const w of out.wraps) await this.addWrap(w);
    await this.addState(out.state);
  }

  /** Opens an attribute of state `n` for `reader` from what is held here; NOT_FOUND if a blob or wrap is missing. */
  async read(record: Uint8Array, n: number, attribute: string, reader: Reader): Promise<Uint8Array> {
    const state = this.state(record, n);
    if (state === undefined) throw new SealedError('NOT_FOUND', `state ${n} of record ${this.#recordHex(record).slice(0, 8)} is not held here`);
    const entry = entryOf(state, attribute);
    const member = memberId(reader.publicKey);
    const wrap = await this.wrap(record, entry.keyState, attribute, member);
    if (wrap === undefined) throw new SealedError('NOT_FOUND', `no wrapped key of ${attribute} for ${member.slice(0, 8)} here`);
    const blob = await this.blob(entry.commitment);
    if (blob === undefined) throw new SealedError('NOT_FOUND', `no blob of ${attribute} here`);
    return openSealed(state, attribute, reader, wrap, blob);
  }

  /** Makes, stores and returns the next state of `record`, fetching the author's own keys from here. */
  async update(record: Uint8Array, change: Change, author: Reader): Promise<SealOutput> {
    const prev = this.latest(record);
    if (prev === undefined) throw new SealedError('NOT_FOUND', `no record ${this.#recordHex(record).slice(0, 8)} here`);
    const need = materialNeeded(prev, change, author.publicKey);
    const keys = new Map<string, Uint8Array>();
    const blobs = new Map<string, Uint8Array>();
    const self = memberId(author.publicKey);
    try {
      for (const name of need.keys) {
        const entry = prev.private[name]!;
        const wrap = await this.wrap(record, entry.keyState, name, self);
        if (wrap === undefined) throw new SealedError('NOT_AUTHORIZED', `the author holds no key of ${name}, which changes readers: it must read it, or set a new value`);
        keys.set(name, unwrapKey(wrap, author.secretKey));
      }
      for (const name of need.blobs) {
        const blob = await this.blob(prev.private[name]!.commitment);
        if (blob === undefined) throw new SealedError('NOT_FOUND', `no blob of ${name} here to re-seal`);
        blobs.set(toHex(prev.private[name]!.commitment), blob);
      }
      const out = updateRecord(prev, change, author.secretKey, {
        key: (name) => {
          const key = keys.get(name)!;
          keys.delete(name); // updateRecord wipes it
          return key;
        },
        blob: (commitment) => blobs.get(toHex(commitment))!,
      });
      await this.addSealed(out);
      return out;
    } finally {
      for (const key of keys.values()) wipe(key);
    }
  }

  /** Wipes every storage key held in memory. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    for (const held of this.#records.values()) held.storage.close();
  }

  async #hold(record: Uint8Array): Promise<Held> {
    const hex = this.#recordHex(record);
    const held = this.#records.get(hex);
    if (held !== undefined) return held;
    // One opening per record even when calls overlap: two would both create epoch 0.
    let opening = this.#opening.get(hex);
    if (opening === undefined) {
      opening = RecordStorage.open(join(this.#dir, hex), record).then((storage) => {
        const fresh = { storage, states: [] };
        this.#records.set(hex, fresh);
        return fresh;
      });
      this.#opening.set(hex, opening);
      opening.finally(() => this.#opening.delete(hex)).catch(() => {});
    }
    return opening;
  }

  #recordHex(record: Uint8Array): string {
    return toHex(requireBytes(record, RECORD_ID_BYTES, 'record id'));
  }

  #requireOpen(): void {
    if (this.#closed) throw new SealedError('CLOSED', 'the vault was closed');
  }
}

function wrapEntry(keyState: number, attribute: string, member: string): string {
  return `wrap/${keyState}/${attribute}/${member}`;
}
