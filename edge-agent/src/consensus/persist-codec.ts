/**
 * PersistRecord on disk: canonical CBOR, one record per log entry. Decoding is
 * strict (a record the replica did not write is refused with MALFORMED), since
 * a replica rebuilt from a wrong record could contradict what it signed.
 */
import { decodeCanonical, encodeCanonical } from '../wire/index.js';
import { ConsensusError } from './errors.js';
import type { PersistRecord } from './types.js';

const LIMITS = { maxBytes: 64 << 20, maxDepth: 4, maxItems: 1 << 16, maxStringBytes: 64 << 20 };

export function encodePersistRecord(r: PersistRecord): Uint8Array {
  switch (r.type) {
    case 'message':
      return encodeCanonical({ t: 'message', b: r.bytes });
    case 'view':
      return encodeCanonical({ t: 'view', v: r.view, a: r.active });
    case 'stable':
      return encodeCanonical({ t: 'stable', s: r.seq, b: r.bundle, p: [...r.proof] });
    case 'prepared':
      return encodeCanonical({ t: 'prepared', pp: r.pp, ps: [...r.ps] });
  }
}

const bad = (why: string): never => {
  throw new ConsensusError('MALFORMED', `persisted record: ${why}`);
};
const isBytes = (v: unknown): v is Uint8Array => v instanceof Uint8Array;
const isSeq = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;

export function decodePersistRecord(bytes: Uint8Array): PersistRecord {
  let v: unknown;
  try {
    v = decodeCanonical(bytes, LIMITS);
  } catch (err) {
    return bad(`not canonical CBOR (${(err as Error).message})`);
  }
  if (typeof v !== 'object' || v === null || Array.isArray(v) || v instanceof Uint8Array) return bad('not a map');
  const o = v as Record<string, unknown>;
  const keys = Object.keys(o).sort().join(',');
  switch (o['t']) {
    case 'message':
      if (keys !== 'b,t' || !isBytes(o['b'])) return bad('a message record holds t and b (bytes)');
      return { type: 'message', bytes: o['b'] };
    case 'view':
      if (keys !== 'a,t,v' || !isSeq(o['v']) || typeof o['a'] !== 'boolean') return bad('a view record holds t, v (view) and a (active)');
      return { type: 'view', view: o['v'], active: o['a'] };
    case 'stable': {
      const p = o['p'];
      if (keys !== 'b,p,s,t' || !isSeq(o['s']) || !isBytes(o['b']) || !Array.isArray(p) || !p.every(isBytes)) return bad('a stable record holds t, s (seq), b (bundle) and p (proof)');
      return { type: 'stable', seq: o['s'], bundle: o['b'], proof: p as Uint8Array[] };
    }
    case 'prepared': {
      const ps = o['ps'];
      if (keys !== 'pp,ps,t' || !isBytes(o['pp']) || !Array.isArray(ps) || !ps.every(isBytes)) return bad('a prepared record holds t, pp (pre-prepare) and ps (prepares)');
      return { type: 'prepared', pp: o['pp'], ps: ps as Uint8Array[] };
    }
    default:
      return bad(`unknown type ${JSON.stringify(String(o['t'])).slice(0, 40)}`);
  }
}
