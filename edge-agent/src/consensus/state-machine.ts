import { decodeCanonical, encodeCanonical } from '../wire/index.js';
import { ConsensusError } from './errors.js';
import { sha256 } from './messages.js';

/**
 * The replicated service. Replicas call execute() in sequence order, so everything it does
 * must be a function of the operations alone: no clock, no randomness, no I/O. execute()
 * must not throw on any operation bytes (a byzantine client can submit anything); if it does
 * anyway, the replica records a fixed error result so replicas still agree.
 */
export interface StateMachine {
  execute(op: Uint8Array): Uint8Array;
  /** A deterministic encoding of the whole state: equal states give equal bytes. */
  snapshot(): Uint8Array;
  /** Replaces the state with a snapshot(); throws ConsensusError('MALFORMED') for bytes that are not one. */
  restore(snapshot: Uint8Array): void;
  /** sha256-sized digest of the state (for hosts that show or compare state). */
  digest(): Uint8Array;
}

export type KvOp =
  | { readonly op: 'put'; readonly key: string; readonly value: Uint8Array }
  | { readonly op: 'get'; readonly key: string }
  | { readonly op: 'delete'; readonly key: string };

export type KvResult = { readonly ok: true; readonly value?: Uint8Array } | { readonly ok: false; readonly error: 'malformed' | 'not-found' };

const MAX_KEY = 256;
const MAX_VALUE = 64 * 1024;

export function encodeKvOp(op: KvOp): Uint8Array {
  if (typeof op !== 'object' || op === null || typeof op.key !== 'string' || op.key.length === 0 || op.key.length > MAX_KEY) {
    throw new ConsensusError('BAD_ARGUMENT', 'a kv op needs a key of 1 to 256 characters');
  }
  if (op.op === 'put') {
    if (!(op.value instanceof Uint8Array) || op.value.length > MAX_VALUE) throw new ConsensusError('BAD_ARGUMENT', 'put needs a value of at most 64 KiB');
    return encodeCanonical({ op: 'put', key: op.key, value: op.value });
  }
  if (op.op !== 'get' && op.op !== 'delete') throw new ConsensusError('BAD_ARGUMENT', `unknown kv op ${String((op as { op: unknown }).op)}`);
  return encodeCanonical({ op: op.op, key: op.key });
}

export function decodeKvResult(bytes: Uint8Array): KvResult {
  let v: unknown;
  try {
    v = decodeCanonical(bytes, { maxBytes: MAX_VALUE + 1024, maxDepth: 1, maxItems: 4 });
  } catch (err) {
    throw new ConsensusError('MALFORMED', 'not a kv result', { cause: err });
  }
  const r = v as Record<string, unknown>;
  if (typeof r !== 'object' || r === null || typeof r['ok'] !== 'boolean') throw new ConsensusError('MALFORMED', 'not a kv result');
  return r as unknown as KvResult;
}

function parseOp(bytes: Uint8Array): KvOp | undefined {
  let v: unknown;
  try {
    v = decodeCanonical(bytes, { maxBytes: MAX_VALUE + 1024, maxDepth: 1, maxItems: 3, maxStringBytes: MAX_VALUE });
  } catch {
    return undefined;
  }
  if (typeof v !== 'object' || v === null || Array.isArray(v) || v instanceof Uint8Array) return undefined;
  const o = v as Record<string, unknown>;
  const key = o['key'];
  if (typeof key !== 'string' || key.length === 0 || key.length > MAX_KEY) return undefined;
  const keys = Object.keys(o).length;
  if (o['op'] === 'put' && keys === 3 && o['value'] instanceof Uint8Array) return { op: 'put', key, value: o['value'] };
  if ((o['op'] === 'get' || o['op'] === 'delete') && keys === 2) return { op: o['op'], key };
  return undefined;
}

/** A small key-value store: the machine of tests and the demo. */
export class KvStateMachine implements StateMachine {
  private readonly data = new Map<string, Uint8Array>();

  execute(op: Uint8Array): Uint8Array {
    const o = op instanceof Uint8Array ? parseOp(op) : undefined;
    if (o === undefined) return encodeCanonical({ ok: false, error: 'malformed' });
    switch (o.op) {
      case 'put':
        this.data.set(o.key, o.value);
        return encodeCanonical({ ok: true });
      case 'get': {
        const value = this.data.get(o.key);
        return encodeCanonical(value === undefined ? { ok: false, error: 'not-found' } : { ok: true, value });
      }
      case 'delete':
        return encodeCanonical(this.data.delete(o.key) ? { ok: true } : { ok: false, error: 'not-found' });
    }
  }

  snapshot(): Uint8Array {
    const keys = [...this.data.keys()].sort();
    return encodeCanonical(keys.map((k) => [k, this.data.get(k)!]));
  }

  restore(snapshot: Uint8Array): void {
    let v: unknown;
    try {
      v = decodeCanonical(snapshot, { maxBytes: 1 << 30, maxDepth: 2, maxItems: 1 << 20, maxStringBytes: MAX_VALUE });
    } catch (err) {
      throw new ConsensusError('MALFORMED', 'kv snapshot does not decode', { cause: err });
    }
    if (!Array.isArray(v) || !v.every((e) => Array.isArray(e) && e.length === 2 && typeof e[0] === 'string' && e[1] instanceof Uint8Array)) {
      throw new ConsensusError('MALFORMED', 'kv snapshot is not a list of [key, value] pairs');
    }
    this.data.clear();
    for (const [k, value] of v as [string, Uint8Array][]) this.data.set(k, value);
  }

  digest(): Uint8Array {
    return sha256(this.snapshot());
  }

  get size(): number {
    return this.data.size;
  }
}
