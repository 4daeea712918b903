/**
 * Messages between the pool and its worker threads. A worker makes one
 * identity at a time, start to finish, so the secret key is born, sealed in
 * the keystore and wiped inside the worker: only public values come back.
 */
export interface SolveRequest {
  readonly type: 'solve';
  /** An empty directory (mode 0700) to create the identity in. */
  readonly dir: string;
  readonly difficulty: number;
}

export type WorkerMessage =
  | { readonly type: 'progress'; readonly attempts: number; readonly hashesPerSec: number }
  | { readonly type: 'done'; readonly publicKey: string; readonly peerId: string }
  | { readonly type: 'failed'; readonly code: string; readonly message: string };

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null;
}

const isCount = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v) && v >= 0;

export function isSolveRequest(v: unknown): v is SolveRequest {
  return (
    isRecord(v) &&
    v.type === 'solve' &&
    typeof v.dir === 'string' &&
    v.dir !== '' &&
    typeof v.difficulty === 'number' &&
    Number.isInteger(v.difficulty) &&
    v.difficulty >= 0
  );
}

/** The message, or undefined if it is not one a worker sends. */
export function parseWorkerMessage(v: unknown): WorkerMessage | undefined {
  if (!isRecord(v)) return undefined;
  switch (v.type) {
    case 'progress':
      return isCount(v.attempts) && isCount(v.hashesPerSec) ? { type: 'progress', attempts: v.attempts, hashesPerSec: v.hashesPerSec } : undefined;
    case 'done':
      return typeof v.publicKey === 'string' && /^0[23][0-9a-f]{64}$/.test(v.publicKey) && typeof v.peerId === 'string' && /^[0-9a-f]{64}$/.test(v.peerId)
        ? { type: 'done', publicKey: v.publicKey, peerId: v.peerId }
        : undefined;
    case 'failed':
      return typeof v.code === 'string' && typeof v.message === 'string' ? { type: 'failed', code: v.code, message: v.message } : undefined;
    default:
      return undefined;
  }
}
