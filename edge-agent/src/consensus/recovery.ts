import { parseBundle, type ReplyRow } from './bundle.js';
import { Certs, planNewView, primaryOf, type PreparedCert, type ViewChangeInfo } from './certs.js';
import { ConsensusError, fail } from './errors.js';
import { CHANNEL_KINDS, bytesEqual, decodeFrame, sha256, type CommitBody, type Frame, type PrePrepareBody, type PrepareBody, type ReplicaBody } from './messages.js';
import type { PersistRecord } from './types.js';

/**
 * Reading a replica's persist records back after a crash: what it promised (the messages it
 * signed, the views it moved to, the certificates it prepared) and the latest stable state.
 * Pure: the Replica applies the result. Every record is checked (our own signature, the
 * checkpoint proof against the bundle, certificates against the keys); a record that fails
 * means a corrupt or foreign log and throws ConsensusError('MALFORMED'): a replica that
 * cannot trust its log must not rejoin on guesswork.
 */

export interface RecoveredSlot {
  /** Our own pre-prepare in the recovered view (we are its primary). */
  pp: Frame<PrePrepareBody> | undefined;
  /** Our own prepare and commit of the highest view. */
  prepare: Frame<PrepareBody> | undefined;
  commit: Frame<CommitBody> | undefined;
  /** The prepared certificate of the highest view. */
  cert: PreparedCert | undefined;
}

export interface Recovered {
  readonly stable:
    | { readonly seq: number; readonly bundle: Uint8Array; readonly digest: Uint8Array; readonly proof: readonly Uint8Array[]; readonly state: Uint8Array; readonly replies: readonly ReplyRow[] }
    | undefined;
  readonly view: number;
  readonly active: boolean;
  /** Our view-change for `view`, when waiting for its new-view. */
  readonly viewChange: ViewChangeInfo | undefined;
  /** Our new-view for `view`, when we are its primary and sent it. */
  readonly newView: Uint8Array | undefined;
  /** The primary's next sequence number in `view` (above everything it pre-prepared there). */
  readonly nextSeq: number;
  readonly slots: ReadonlyMap<number, RecoveredSlot>;
}

const isBytes = (v: unknown): v is Uint8Array => v instanceof Uint8Array;
const isSeq = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;
const isBytesList = (v: unknown): v is Uint8Array[] => Array.isArray(v) && v.every(isBytes);

function bad(message: string): never {
  throw new ConsensusError('MALFORMED', message);
}

/** Throws ConsensusError('MALFORMED') unless `r` has the shape of a PersistRecord. */
function checkPersistRecord(r: unknown, where = 'persist record'): asserts r is PersistRecord {
  if (typeof r !== 'object' || r === null) bad(`${where} is not an object`);
  const x = r as Record<string, unknown>;
  switch (x['type']) {
    case 'message':
      if (!isBytes(x['bytes'])) bad(`${where}: message needs bytes`);
      return;
    case 'view':
      if (!isSeq(x['view']) || typeof x['active'] !== 'boolean') bad(`${where}: view needs a view number and active`);
      return;
    case 'stable':
      if (!isSeq(x['seq']) || x['seq'] === 0 || !isBytes(x['bundle']) || !isBytesList(x['proof'])) bad(`${where}: stable needs seq > 0, bundle and proof`);
      return;
    case 'prepared':
      if (!isBytes(x['pp']) || !isBytesList(x['ps'])) bad(`${where}: prepared needs pp and ps`);
      return;
    default:
      bad(`${where}: unknown type ${String(x['type'])}`);
  }
}

const OWN_KINDS = new Set<ReplicaBody['k']>(['preprepare', 'prepare', 'commit', 'checkpoint', 'viewchange', 'newview']);

export function readRecords(records: readonly PersistRecord[], id: number, certs: Certs, maxBytes: number): Recovered {
  if (!Array.isArray(records)) fail('recovered must be an array of persist records');
  const corrupt = (i: number, why: string): never => {
    throw new ConsensusError('MALFORMED', `recovered record ${i}: ${why}`);
  };
  records.forEach((r, i) => checkPersistRecord(r, `recovered record ${i}`));

  // The latest stable checkpoint first: everything at or below it is history.
  let stable: Recovered['stable'];
  records.forEach((r, i) => {
    if (r.type !== 'stable' || (stable !== undefined && r.seq <= stable.seq)) return;
    const digest = certs.checkpointProof(r.seq, r.proof);
    if (digest === undefined || !bytesEqual(digest, sha256(r.bundle))) corrupt(i, `stable ${r.seq}: the proof does not match the bundle`);
    const b = parseBundle(r.bundle, maxBytes);
    if (b === undefined) corrupt(i, `stable ${r.seq}: the bundle does not decode`);
    stable = { seq: r.seq, bundle: r.bundle, digest: digest!, proof: r.proof.slice(0, certs.quorum.q), state: b!.state, replies: b!.replies };
  });
  const low = stable?.seq ?? 0;

  let view = 0;
  const activeIn = new Set<number>([0]);
  const own: Frame<ReplicaBody>[] = [];
  const certList: PreparedCert[] = [];
  records.forEach((r, i) => {
    if (r.type === 'view') {
      view = Math.max(view, r.view);
      if (r.active) activeIn.add(r.view);
    } else if (r.type === 'message') {
      const f = decodeFrame(r.bytes, certs.limits);
      if (typeof f === 'string' || f.body.k === 'request' || !OWN_KINDS.has(f.body.k)) return corrupt(i, 'not a message a replica persists');
      if (f.body.r !== id || (!CHANNEL_KINDS.has(f.body.k) && !certs.signedByReplica(f))) return corrupt(i, `not signed by replica ${id}`);
      own.push(f as Frame<ReplicaBody>);
    } else if (r.type === 'prepared') {
      const p = certs.replicaFrame(r.pp, 'preprepare');
      if (p === undefined) return corrupt(i, 'prepared: bad pre-prepare');
      if (p.body.n <= low) return;
      const cert = certs.prepared(r.pp, r.ps, low, Number.MAX_SAFE_INTEGER);
      if (cert === undefined) return corrupt(i, `prepared ${p.body.n}: not a valid certificate above ${low}`);
      certList.push(cert);
    }
  });

  // Views only grow; a message of a view means we were in it, and every kind but the
  // view-change is only sent while active in its view.
  for (const f of own) {
    const b = f.body;
    if (b.k === 'checkpoint' || b.k === 'fetch' || b.k === 'state' || b.k === 'status' || b.k === 'reply') continue;
    view = Math.max(view, b.v);
    if (b.k !== 'viewchange') activeIn.add(b.v);
  }
  const active = activeIn.has(view);

  const slots = new Map<number, RecoveredSlot>();
  const slot = (seq: number): RecoveredSlot => {
    let s = slots.get(seq);
    if (s === undefined) slots.set(seq, (s = { pp: undefined, prepare: undefined, commit: undefined, cert: undefined }));
    return s;
  };
  for (const c of certList) {
    const s = slot(c.seq);
    if (s.cert === undefined || s.cert.view < c.view) s.cert = c;
  }
  let viewChange: ViewChangeInfo | undefined;
  let newView: Uint8Array | undefined;
  let nextSeq = low + 1;
  for (const f of own) {
    const b = f.body;
    if (b.k === 'viewchange') {
      if (!active && b.v === view) {
        viewChange = certs.viewChange(f.bytes);
        if (viewChange === undefined) throw new ConsensusError('MALFORMED', `recovered: our view-change for ${b.v} does not check`);
      }
    } else if (b.k === 'newview') {
      if (b.v !== view || primaryOf(view, certs.quorum.n) !== id) continue;
      newView = f.bytes;
      const infos = b.vc.map((x) => certs.viewChange(x));
      if (infos.length === 0 || infos.some((x) => x === undefined)) throw new ConsensusError('MALFORMED', `recovered: our new-view for ${b.v} does not check`);
      nextSeq = Math.max(nextSeq, planNewView(infos as ViewChangeInfo[]).maxS + 1);
    } else if (b.k === 'preprepare' || b.k === 'prepare' || b.k === 'commit') {
      if (b.n <= low) continue;
      if (b.k === 'preprepare') {
        if (b.v !== view) continue;
        slot(b.n).pp = f as Frame<PrePrepareBody>;
        nextSeq = Math.max(nextSeq, b.n + 1);
      } else {
        const s = slot(b.n);
        const had = b.k === 'prepare' ? s.prepare : s.commit;
        if (had !== undefined && had.body.v >= b.v) continue;
        if (b.k === 'prepare') s.prepare = f as Frame<PrepareBody>;
        else s.commit = f as Frame<CommitBody>;
      }
    }
  }
  return { stable, view, active, viewChange, newView, nextSeq, slots };
}
