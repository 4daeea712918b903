import { fail } from './errors.js';
import type { StateMachine } from './state-machine.js';
import type { ClientVerifier, ConsensusSigner, ConsensusVerifier, PersistRecord } from './types.js';
import { VerifyCache } from './verify-cache.js';

export interface ReplicaConfig {
  /** This replica's number, 0..n−1. */
  readonly id: number;
  /** Replicas in the group (at least 4; f = ⌊(n−1)/3⌋). */
  readonly n: number;
  readonly signer: ConsensusSigner;
  readonly verifier: ConsensusVerifier;
  /** When given, requests must carry the client's signature (a byzantine primary cannot invent requests). */
  readonly clientVerifier?: ClientVerifier;
  readonly stateMachine: StateMachine;
  /** K: a checkpoint every K sequence numbers (default 16). */
  readonly checkpointInterval?: number;
  /** L: the log window above the low watermark, a multiple of K (default 2K). */
  readonly logWindow?: number;
  /** Most requests in one batch (default 32). */
  readonly maxBatch?: number;
  /** ms the primary waits for a batch to fill (default 0: cut at once; batches fill while maxInFlight others are under way). */
  readonly batchDelay?: number;
  /**
   * Batches the primary keeps proposed but not yet executed (default 2). While that many are
   * in flight, requests wait in its queue, so under load batches fill by themselves instead of
   * the group paying a round of signatures, messages and log writes for every few requests.
   */
  readonly maxInFlight?: number;
  /** ms a request may wait for execution before a view change (default 500; doubles per consecutive view change). */
  readonly requestTimeout?: number;
  /** Cap on the doubling (default 6: at most 64× the timeout). */
  readonly maxBackoff?: number;
  /** ms between status messages (default 100). */
  readonly statusInterval?: number;
  /** Largest message accepted (default 1 MiB). */
  readonly maxMessageBytes?: number;
  readonly cache?: VerifyCache;
  /** Time of creation (ms, virtual or real). */
  readonly now: number;
  /**
   * Rebuild after a crash: every record this replica persisted, in the order it persisted
   * them (a torn last record already dropped by the log), or `compactRecords()` output plus
   * what followed it. `stateMachine` must then be in its initial state: it is restored from
   * the latest stable record. Throws ConsensusError('MALFORMED') for records that do not
   * check (not ours, a proof that does not match its bundle).
   */
  readonly recovered?: readonly PersistRecord[];
}

export interface ResolvedConfig {
  readonly id: number;
  readonly n: number;
  readonly signer: ConsensusSigner;
  readonly verifier: ConsensusVerifier;
  readonly clientVerifier: ClientVerifier | undefined;
  readonly stateMachine: StateMachine;
  readonly K: number;
  readonly L: number;
  readonly maxBatch: number;
  readonly batchDelay: number;
  readonly maxInFlight: number;
  readonly requestTimeout: number;
  readonly maxBackoff: number;
  readonly statusInterval: number;
  readonly maxMessageBytes: number;
  readonly cache: VerifyCache;
  readonly now: number;
  readonly recovered: readonly PersistRecord[] | undefined;
}

function int(name: string, value: unknown, min: number, max: number): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < min || value > max) {
    fail(`${name} must be an integer from ${min} to ${max}, got ${String(value)}`);
  }
  return value;
}

export function resolveConfig(c: ReplicaConfig): ResolvedConfig {
  if (typeof c !== 'object' || c === null) fail('replica config must be an object');
  const n = int('n', c.n, 4, 1024);
  const id = int('id', c.id, 0, n - 1);
  if (typeof c.signer?.sign !== 'function') fail('signer.sign is required');
  if (typeof c.verifier?.verify !== 'function') fail('verifier.verify is required');
  if (c.clientVerifier !== undefined && typeof c.clientVerifier.verify !== 'function') fail('clientVerifier.verify must be a function');
  const sm = c.stateMachine;
  if (typeof sm?.execute !== 'function' || typeof sm.snapshot !== 'function' || typeof sm.restore !== 'function' || typeof sm.digest !== 'function') {
    fail('stateMachine must have execute, snapshot, restore and digest');
  }
  const K = int('checkpointInterval', c.checkpointInterval ?? 16, 1, 1 << 20);
  const L = int('logWindow', c.logWindow ?? 2 * K, K, 1 << 22);
  if (L % K !== 0) fail(`logWindow ${L} must be a multiple of checkpointInterval ${K}`);
  if (c.cache !== undefined && !(c.cache instanceof VerifyCache)) fail('cache must be a VerifyCache');
  if (typeof c.now !== 'number' || !Number.isFinite(c.now)) fail('now must be a finite number');
  if (c.recovered !== undefined && !Array.isArray(c.recovered)) fail('recovered must be an array of persist records');
  return {
    id,
    n,
    signer: c.signer,
    verifier: c.verifier,
    clientVerifier: c.clientVerifier,
    stateMachine: sm,
    K,
    L,
    maxBatch: int('maxBatch', c.maxBatch ?? 32, 1, 1024),
    batchDelay: int('batchDelay', c.batchDelay ?? 0, 0, 60_000),
    maxInFlight: int('maxInFlight', c.maxInFlight ?? 2, 1, 1 << 22),
    requestTimeout: int('requestTimeout', c.requestTimeout ?? 500, 1, 3_600_000),
    maxBackoff: int('maxBackoff', c.maxBackoff ?? 6, 0, 20),
    statusInterval: int('statusInterval', c.statusInterval ?? 100, 1, 3_600_000),
    maxMessageBytes: int('maxMessageBytes', c.maxMessageBytes ?? 1 << 20, 4096, 1 << 30),
    cache: c.cache ?? new VerifyCache(),
    now: c.now,
    recovered: c.recovered,
  };
}
