/**
 * The sync shell: serves what this node's vault holds to its peers over the
 * Messenger, and fetches what a read needs (states, blobs, this member's
 * wrapped keys) from them. Whatever comes back is checked before it is kept:
 * states through the chain rules, blobs against their commitment (a mismatch
 * is BAD_COMMITMENT and the next peer is asked), wraps against the context asked for.
 */
import { toHex } from '../identity/index.js';
import { TransportError, type Incoming, type Messenger } from '../transport/index.js';
import { checkCommitment } from './attribute.js';
import { SealedError } from './errors.js';
import { HASH_BYTES, equalBytes } from './primitives.js';
import { RECORD_ID_BYTES, requireBytes, requireName, requireStateNumber } from './limits.js';
import { sealedGetBlob, sealedGetKey, sealedGetState } from './messages.js';
import { entryOf, requireReader, type Reader } from './open.js';
import { memberId } from './policy.js';
import { decodeState, encodeState } from './state.js';
import type { SealedVault } from './vault.js';
import type { WrappedKey } from './wrap.js';

export interface SealedSyncOptions {
  readonly messenger: Messenger;
  readonly vault: SealedVault;
  /** Peer ids to ask, in order (e.g. the open channels, or the overlay's neighbours). */
  readonly peers: () => readonly Uint8Array[];
  /** Per request (default: the messenger's). */
  readonly timeoutMs?: number;
}

export interface SyncStats {
  blobsServed: number;
  keysServed: number;
  statesServed: number;
  blobsFetched: number;
  keysFetched: number;
  statesFetched: number;
  /** Answers refused on arrival: a blob off its commitment, a wrap for another context, a state that does not follow. */
  rejected: number;
}

function notFound(what: string): never {
  throw new SealedError('NOT_FOUND', `${what} is not held here`);
}

export class SealedSync {
  readonly #messenger: Messenger;
  readonly #vault: SealedVault;
  readonly #peers: () => readonly Uint8Array[];
  readonly #timeout: { timeoutMs?: number };
  readonly #stats: SyncStats = { blobsServed: 0, keysServed: 0, statesServed: 0, blobsFetched: 0, keysFetched: 0, statesFetched: 0, rejected: 0 };

  constructor(options: SealedSyncOptions) {
    if (typeof options !== 'object' || options === null) throw new SealedError('BAD_ARGUMENT', 'sync options must be an object');
    if (typeof options.messenger?.request !== 'function') throw new SealedError('BAD_ARGUMENT', 'sync needs a Messenger');
    if (typeof options.vault?.blob !== 'function') throw new SealedError('BAD_ARGUMENT', 'sync needs a SealedVault');
    if (typeof options.peers !== 'function') throw new SealedError('BAD_ARGUMENT', 'sync needs a peers() function');
    if (options.timeoutMs !== undefined && (!Number.isSafeInteger(options.timeoutMs) || options.timeoutMs < 1)) throw new SealedError('BAD_ARGUMENT', 'timeoutMs must be a positive integer');
    this.#messenger = options.messenger;
    this.#vault = options.vault;
    this.#peers = options.peers;
    this.#timeout = options.timeoutMs === undefined ? {} : { timeoutMs: options.timeoutMs };
    this.#messenger.handle(sealedGetBlob, (m) => this.#serveBlob(m.body.commitment));
    this.#messenger.handle(sealedGetKey, (m) => this.#serveKey(m));
    this.#messenger.handle(sealedGetState, (m) => this.#serveState(m.body.record, m.body.n));
  }

  stats(): SyncStats {
    return { ...this.#stats };
  }

  /** The blob with `commitment`: from the vault, else from the first peer that serves a matching one (then kept). */
  async blob(record: Uint8Array, commitment: Uint8Array): Promise<Uint8Array> {
    requireBytes(record, RECORD_ID_BYTES, 'record id');
    requireBytes(commitment, HASH_BYTES, 'commitment');
    const held = await this.#vault.blob(commitment);
    if (held !== undefined) return held;
    let bad = false;
    for (const peer of this.#peers()) {
      const answer = await this.#ask(() => this.#messenger.request(peer, sealedGetBlob, { commitment }, this.#timeout));
      if (answer === undefined) continue;
      try {
        checkCommitment(answer.blob, commitment);
      } catch (err) {
        if (!(err instanceof SealedError)) throw err;
        bad = true;
        this.#stats.rejected++;
        continue;
      }
      await this.#vault.addBlob(record, commitment, answer.blob);
      this.#stats.blobsFetched++;
      return answer.blob;
    }
    if (bad) throw new SealedError('BAD_COMMITMENT', `every blob served for ${toHex(commitment).slice(0, 8)} failed its commitment`);
    throw new SealedError('NOT_FOUND', `no peer holds the blob ${toHex(commitment).slice(0, 8)}`);
  }

  /** This member's wrap of `attribute` in state `n`: from the vault, else from a peer (then kept). */
  async wrap(record: Uint8Array, n: number, attribute: string, member: string): Promise<WrappedKey> {
    const state = this.#vault.state(record, n) ?? notFound(`state ${n}`);
    const entry = entryOf(state, attribute);
    requireReader(state, attribute, member);
    const held = await this.#vault.wrap(record, entry.keyState, attribute, member);
    if (held !== undefined) return held;
    for (const peer of this.#peers()) {
      const wrap = await this.#ask(() => this.#messenger.request(peer, sealedGetKey, { record, n, attribute }, this.#timeout));
      if (wrap === undefined) continue;
      if (!equalBytes(wrap.record, record) || wrap.keyState !== entry.keyState || wrap.attribute !== attribute || wrap.member !== member) {
        this.#stats.rejected++;
        continue;
      }
      await this.#vault.addWrap(wrap);
      this.#stats.keysFetched++;
      return wrap;
    }
    throw new SealedError('NOT_FOUND', `no peer holds ${member.slice(0, 8)}'s key of ${attribute} in state ${n}`);
  }

  /** Fetches the states of `record` after the latest one held from `peer`; returns how many were added. */
  async pull(peer: Uint8Array, record: Uint8Array): Promise<number> {
    requireBytes(record, RECORD_ID_BYTES, 'record id');
    let added = 0;
    for (let n = (this.#vault.latest(record)?.n ?? -1) + 1; ; n++) {
      const answer = await this.#ask(() => this.#messenger.request(peer, sealedGetState, { record, n }, this.#timeout));
      if (answer === undefined) return added;
      try {
        const state = decodeState(answer.state);
        if (!equalBytes(state.record, record) || state.n !== n) throw new SealedError('BAD_CHAIN', `asked for state ${n}, got another`);
        await this.#vault.addState(state);
      } catch (err) {
        if (err instanceof SealedError) this.#stats.rejected++;
        throw err;
      }
      this.#stats.statesFetched++;
      added++;
    }
  }

  /** Reads an attribute of state `n`, fetching this reader's wrap and the blob from peers when missing. */
  async read(record: Uint8Array, n: number, attribute: string, reader: Reader): Promise<Uint8Array> {
    const state = this.#vault.state(record, n) ?? notFound(`state ${n}`);
    const entry = entryOf(state, attribute);
    await this.wrap(record, n, attribute, memberId(reader.publicKey));
    await this.blob(record, entry.commitment);
    return this.#vault.read(record, n, attribute, reader);
  }

  /** One request; undefined when that peer could not help (no channel, timeout, refusal). */
  async #ask<R>(request: () => Promise<R>): Promise<R | undefined> {
    try {
      return await request();
    } catch (err) {
      if (err instanceof TransportError) return undefined;
      throw err;
    }
  }

  async #serveBlob(commitment: Uint8Array): Promise<{ blob: Uint8Array }> {
    const blob = (await this.#vault.blob(commitment)) ?? notFound('that blob');
    this.#stats.blobsServed++;
    return { blob };
  }

  async #serveKey(m: Incoming<{ record: Uint8Array; n: number; attribute: string }>): Promise<WrappedKey> {
    const { record, n, attribute } = m.body;
    requireStateNumber(n, 'state number');
    requireName(attribute, 'attribute');
    const state = this.#vault.state(record, n) ?? notFound(`state ${n}`);
    const entry = entryOf(state, attribute);
    // The asker is the channel's authenticated peer: it gets its own wrap, and only while it reads.
    const asker = toHex(m.peerId);
    requireReader(state, attribute, asker);
    const wrap = (await this.#vault.wrap(record, entry.keyState, attribute, asker)) ?? notFound('that wrap');
    this.#stats.keysServed++;
    return wrap;
  }

  #serveState(record: Uint8Array, n: number): { state: Uint8Array } {
    const state = this.#vault.state(record, n) ?? notFound(`state ${n}`);
    this.#stats.statesServed++;
    return { state: encodeState(state) };
  }
}
