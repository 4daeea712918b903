/**
 * The agent's sealed configuration (sealed/ in the agent): one record per
 * agent, "config", whose private attributes this agent seals for chosen
 * boards, and the reading of other agents' config records over the channels.
 *
 * Record id: SHA-256(CONFIG_RECORD_LABEL || 0x00 || this agent's peer id ||
 * "config"), so anyone who knows an agent's peer id knows where its config
 * lives, and a restart keeps the same record. Each attribute has a role of its
 * own, named like the attribute, whose members are the attribute's readers;
 * the record's members are this agent (its only writer) and every reader of
 * any attribute. Members' identity keys are the channels' remote keys: a
 * reader must have an open channel when an attribute is sealed for it.
 *
 * Reading pulls the record's states from the peer named, then this member's
 * wrapped key and the blob (from that peer first), and opens the latest state.
 * Every failure is a SealedConfigError whose code is the sealed room's
 * (NOT_AUTHORIZED, NOT_FOUND, UNKNOWN_ATTRIBUTE, ...) or NOT_CONNECTED / STOPPED.
 */
import { chmod, mkdir } from 'node:fs/promises';
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import type { Logger } from 'pino';
import { SECRET_KEY_LENGTH, toHex } from '../identity/index.js';
import {
  MAX_ATTRIBUTE_BYTES,
  MAX_ROLES,
  SealedError,
  SealedSync,
  SealedVault,
  createRecord,
  type Reader,
  type Role,
  type SealedErrorCode,
  type SealedState,
} from '../sealed/index.js';
import { TransportError, type ConnectionManager, type Messenger } from '../transport/index.js';

export type SealedConfigErrorCode =
  | SealedErrorCode
  /** A reader to seal for, or the peer to read from, has no open channel. */
  | 'NOT_CONNECTED'
  /** The service was stopped (or, from the command desk, never started). */
  | 'STOPPED';

export class SealedConfigError extends Error {
  override readonly name = 'SealedConfigError';
  constructor(
    readonly code: SealedConfigErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** Domain label of the config record id. */
export const CONFIG_RECORD_LABEL = 'edge-agent/sealed-config/v1';
const CONFIG_NAME = 'config';
/** Most readers one attribute may be sealed for (the command allows fewer, to fit its body). */
export const MAX_CONFIG_READERS = 64;
/** Attribute names of the config record: a subset of the sealed room's names (no '/', no capitals). */
export const CONFIG_ATTRIBUTE_PATTERN = /^(?!__proto__$)[a-z0-9._-]{1,64}$/;
const PEER_HEX = /^[0-9a-f]{64}$/;

export type AuditSink = (kind: string, data: Record<string, unknown>) => Promise<unknown>;

export interface SealedConfigOptions {
  /** The agent's data directory; the vault lives in `<dataDir>/sealed` (mode 0700). */
  readonly dataDir: string;
  /** The agent's Messenger: its registry must include withSealedMessages. */
  readonly messenger: Messenger;
  /** Its ConnectionManager, keyed by this agent's identity key: peers and their public keys come from its channels. */
  readonly manager: ConnectionManager;
  /** A fresh copy of the identity secret key, wiped here after each use. */
  readonly secretKey: () => Uint8Array;
  readonly audit?: AuditSink;
  readonly log?: Logger;
  /** Per sync request (default: the messenger's). */
  readonly timeoutMs?: number;
}

export interface SealRequest {
  readonly attribute: string;
  readonly value: Uint8Array;
  /** Peer ids (lowercase hex) of the boards that may read the attribute. */
  readonly readers: readonly string[];
}

export interface ReadRequest {
  /** The record id, lowercase hex (configRecordId of the agent that sealed it). */
  readonly record: string;
  readonly attribute: string;
  /** Peer id (lowercase hex) of the agent to pull the record from. */
  readonly from: string;
}

/** Where the config record of the agent with this peer id lives. */
export function configRecordId(peerId: Uint8Array): Uint8Array {
  if (!(peerId instanceof Uint8Array) || peerId.length !== 32) throw new SealedConfigError('BAD_ARGUMENT', 'configRecordId: a peer id is 32 bytes');
  const h = createHash('sha256');
  h.update(CONFIG_RECORD_LABEL);
  h.update(new Uint8Array([0]));
  h.update(peerId);
  h.update(CONFIG_NAME);
  return new Uint8Array(h.digest());
}

function requireAttribute(value: unknown): string {
  if (typeof value !== 'string' || !CONFIG_ATTRIBUTE_PATTERN.test(value)) {
    throw new SealedConfigError('BAD_ARGUMENT', 'attribute must be 1 to 64 characters of a-z 0-9 . _ -');
  }
  return value;
}

function requirePeerHex(value: unknown, what: string): string {
  if (typeof value !== 'string' || !PEER_HEX.test(value)) throw new SealedConfigError('BAD_ARGUMENT', `${what} must be a peer id: 64 lowercase hex digits`);
  return value;
}

const bytesOf = (hex: string): Uint8Array => new Uint8Array(Buffer.from(hex, 'hex'));

/** A SealedError keeps its code; transport trouble on the way is NOT_FOUND (no peer could help). */
function asConfigError(err: unknown): unknown {
  if (err instanceof SealedConfigError) return err;
  if (err instanceof SealedError) return new SealedConfigError(err.code, err.message, { cause: err });
  if (err instanceof TransportError) return new SealedConfigError('NOT_FOUND', `the peer could not answer: ${err.message}`, { cause: err });
  return err;
}

export class SealedConfigService {
  readonly #vault: SealedVault;
  readonly #sync: SealedSync;
  readonly #manager: ConnectionManager;
  readonly #secretKey: () => Uint8Array;
  readonly #audit: AuditSink | undefined;
  readonly #log: Logger | undefined;
  readonly #self: string;
  readonly #record: Uint8Array;
  /** The peer a read asks first; operations run one at a time, so one field suffices. */
  #prefer: string | undefined;
  #queue: Promise<unknown> = Promise.resolve();
  #stopped = false;

  private constructor(options: SealedConfigOptions, vault: SealedVault) {
    this.#vault = vault;
    this.#manager = options.manager;
    this.#secretKey = options.secretKey;
    this.#audit = options.audit;
    this.#log = options.log;
    this.#self = toHex(options.manager.peerId);
    this.#record = configRecordId(options.manager.peerId);
    try {
      this.#sync = new SealedSync({
        messenger: options.messenger,
        vault,
        peers: () => this.#peers(),
        ...(options.timeoutMs === undefined ? {} : { timeoutMs: options.timeoutMs }),
      });
    } catch (err) {
      if (err instanceof TransportError) {
        throw new SealedConfigError('BAD_ARGUMENT', `the messenger cannot carry the sealed requests (is withSealedMessages in its registry?): ${err.message}`, { cause: err });
      }
      throw asConfigError(err);
    }
  }

  /** Opens the vault under `<dataDir>/sealed` and serves it to peers on the messenger. */
  static async open(options: SealedConfigOptions): Promise<SealedConfigService> {
    if (typeof options !== 'object' || options === null) throw new SealedConfigError('BAD_ARGUMENT', 'sealed config options must be an object');
    if (typeof options.dataDir !== 'string' || options.dataDir === '') throw new SealedConfigError('BAD_ARGUMENT', 'dataDir must be a non-empty path');
    if (typeof options.manager?.channel !== 'function') throw new SealedConfigError('BAD_ARGUMENT', 'sealed config needs a ConnectionManager');
    if (typeof options.secretKey !== 'function') throw new SealedConfigError('BAD_ARGUMENT', 'secretKey must be a function returning a key copy');
    if (options.audit !== undefined && typeof options.audit !== 'function') throw new SealedConfigError('BAD_ARGUMENT', 'audit must be a function');
    const dir = join(options.dataDir, 'sealed');
    await mkdir(dir, { recursive: true, mode: 0o700 });
    await chmod(dir, 0o700); // an older, wider directory is narrowed: it holds encrypted keys
    const vault = await SealedVault.open(dir).catch((err: unknown) => {
      throw asConfigError(err);
    });
    try {
      return new SealedConfigService(options, vault);
    } catch (err) {
      vault.close();
      throw err;
    }
  }

  /** This agent's config record id, hex. */
  get record(): string {
    return toHex(this.#record);
  }

  stats(): ReturnType<SealedSync['stats']> & { records: number } {
    return { ...this.#sync.stats(), records: this.#vault.records().length };
  }

  /**
   * Seals `value` as `attribute` of this agent's config record for `readers`
   * (replacing its readers and value if it was sealed before). Readers need an
   * open channel: their identity keys come from it.
   */
  async seal(request: SealRequest): Promise<{ record: string; state: number }> {
    if (typeof request !== 'object' || request === null) throw new SealedConfigError('BAD_ARGUMENT', 'seal needs { attribute, value, readers }');
    const attribute = requireAttribute(request.attribute);
    const value = request.value;
    if (!(value instanceof Uint8Array) || value.length > MAX_ATTRIBUTE_BYTES) throw new SealedConfigError('BAD_ARGUMENT', `value must be at most ${MAX_ATTRIBUTE_BYTES} bytes`);
    if (!Array.isArray(request.readers) || request.readers.length < 1 || request.readers.length > MAX_CONFIG_READERS) {
      throw new SealedConfigError('BAD_ARGUMENT', `readers must list 1 to ${MAX_CONFIG_READERS} peer ids`);
    }
    const readers = request.readers.map((r) => requirePeerHex(r, 'a reader'));
    if (new Set(readers).size !== readers.length) throw new SealedConfigError('BAD_ARGUMENT', 'readers must not repeat');
    const copy = Uint8Array.from(value); // wiped once sealed, whatever happens
    return this.#run(() => this.#seal(attribute, copy, [...readers].sort())).finally(() => copy.fill(0));
  }

  /** Pulls `record` from `from` and opens `attribute` of its latest state for this agent. The caller wipes the value. */
  async read(request: ReadRequest): Promise<{ value: Uint8Array; state: number }> {
    if (typeof request !== 'object' || request === null) throw new SealedConfigError('BAD_ARGUMENT', 'read needs { record, attribute, from }');
    if (typeof request.record !== 'string' || !PEER_HEX.test(request.record)) throw new SealedConfigError('BAD_ARGUMENT', 'record must be a record id: 64 lowercase hex digits');
    const attribute = requireAttribute(request.attribute);
    const from = requirePeerHex(request.from, 'from');
    return this.#run(() => this.#read(request.record, attribute, from));
  }

  /** Waits for the operation under way, then wipes the vault's keys. Later calls fail with STOPPED. */
  async stop(): Promise<void> {
    if (this.#stopped) return;
    this.#stopped = true;
    await this.#queue.catch(() => {});
    this.#vault.close();
  }

  async #seal(attribute: string, value: Uint8Array, readers: string[]): Promise<{ record: string; state: number }> {
    const record = this.record;
    try {
      const prev = this.#vault.latest(this.#record);
      const roles: Record<string, Role> = { ...(prev?.roles ?? {}), [attribute]: { attributes: [attribute], members: readers } };
      if (Object.keys(roles).length > MAX_ROLES) throw new SealedConfigError('BAD_ARGUMENT', `the config record holds at most ${MAX_ROLES} attributes`);
      const members = this.#memberKeys(roles, readers, prev);
      const secretKey = this.#key();
      try {
        let state: number;
        if (prev === undefined) {
          const out = createRecord({ secretKey, record: this.#record, members, roles, public: { kind: CONFIG_NAME, owner: this.#self }, private: { [attribute]: value } });
          await this.#vault.addSealed(out);
          state = out.state.n;
        } else {
          const author: Reader = { secretKey, publicKey: this.#manager.publicKey };
          state = (await this.#vault.update(this.#record, { members, roles, set: { [attribute]: value } }, author)).state.n;
        }
        await this.#note('sealed.sealed', { record, attribute, state, readers });
        this.#log?.info({ event: 'sealed', record, attribute, state, readers: readers.length }, `sealed ${attribute} for ${readers.length} reader(s), state ${state}`);
        return { record, state };
      } finally {
        secretKey.fill(0);
      }
    } catch (err) {
      const failure = asConfigError(err);
      if (failure instanceof SealedConfigError) await this.#note('sealed.refused', { op: 'seal', record, attribute, code: failure.code });
      throw failure;
    }
  }

  async #read(recordHex: string, attribute: string, from: string): Promise<{ value: Uint8Array; state: number }> {
    const record = bytesOf(recordHex);
    try {
      if (from !== this.#self) {
        if (this.#manager.channel(bytesOf(from)) === undefined) throw new SealedConfigError('NOT_CONNECTED', `no open channel to ${from}`);
        this.#prefer = from;
        await this.#sync.pull(bytesOf(from), record);
      }
      const latest = this.#vault.latest(record);
      if (latest === undefined) throw new SealedConfigError('NOT_FOUND', `record ${recordHex.slice(0, 8)} is held neither here nor by ${from.slice(0, 8)}`);
      const secretKey = this.#key();
      let value: Uint8Array;
      try {
        value = await this.#sync.read(record, latest.n, attribute, { secretKey, publicKey: this.#manager.publicKey });
      } finally {
        secretKey.fill(0);
      }
      await this.#note('sealed.read', { record: recordHex, attribute, from, state: latest.n });
      this.#log?.info({ event: 'sealed.read', record: recordHex, attribute, from, state: latest.n }, `read ${attribute} of ${recordHex.slice(0, 8)} state ${latest.n}`);
      return { value, state: latest.n };
    } catch (err) {
      const failure = asConfigError(err);
      if (failure instanceof SealedConfigError) {
        await this.#note('sealed.refused', { op: 'read', record: recordHex, attribute, from, code: failure.code });
        this.#log?.info({ event: 'sealed.refused', record: recordHex, attribute, from, code: failure.code }, `read of ${attribute} refused: ${failure.code}`);
      }
      throw failure;
    } finally {
      this.#prefer = undefined;
    }
  }

  /**
   * This agent plus every reader of every attribute, by identity key. The readers of this call need an open channel
   * (its remote key is the one they prove on every read); readers of other attributes keep their key from `prev`.
   */
  #memberKeys(roles: Readonly<Record<string, Role>>, readers: readonly string[], prev: SealedState | undefined): Uint8Array[] {
    const keys = new Map<string, Uint8Array>([[this.#self, this.#manager.publicKey]]);
    for (const id of readers) {
      if (keys.has(id)) continue;
      const channel = this.#manager.channel(bytesOf(id));
      if (channel === undefined) throw new SealedConfigError('NOT_CONNECTED', `reader ${id} has no open channel: its identity key is unknown here`);
      keys.set(id, channel.remotePublicKey);
    }
    for (const role of Object.values(roles)) {
      for (const id of role.members) {
        if (keys.has(id)) continue;
        const key = prev?.members[id] ?? this.#manager.channel(bytesOf(id))?.remotePublicKey;
        if (key === undefined) throw new SealedConfigError('NOT_CONNECTED', `reader ${id} has no open channel: its identity key is unknown here`);
        keys.set(id, key);
      }
    }
    return [...keys.keys()].sort().map((id) => keys.get(id)!);
  }

  #key(): Uint8Array {
    const key = this.#secretKey();
    if (!(key instanceof Uint8Array) || key.length !== SECRET_KEY_LENGTH) throw new SealedConfigError('BAD_ARGUMENT', `secretKey() must return ${SECRET_KEY_LENGTH} bytes`);
    return key;
  }

  /** The open channels, the preferred peer first. */
  #peers(): Uint8Array[] {
    const peers = this.#manager.channels().map((c) => c.remotePeerId);
    const first = this.#prefer;
    if (first === undefined) return peers;
    return [...peers.filter((p) => toHex(p) === first), ...peers.filter((p) => toHex(p) !== first)];
  }

  async #note(kind: string, data: Record<string, unknown>): Promise<void> {
    // The audit is a record of what happened, not a gate: a failed append is logged, the operation stands.
    await this.#audit?.(kind, data).catch((err: unknown) => this.#log?.warn({ event: 'audit', kind, err: (err as Error).message }, `audit ${kind} not written`));
  }

  #run<T>(op: () => Promise<T>): Promise<T> {
    if (this.#stopped) return Promise.reject(new SealedConfigError('STOPPED', 'the sealed config service was stopped'));
    const next = this.#queue.then(op, op);
    this.#queue = next.catch(() => {});
    return next;
  }
}
