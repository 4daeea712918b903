/**
 * Worker thread entry: makes the identities the pool asks for, one at a time,
 * with identity/'s createIdentity (key pair, proof of work, keystore,
 * identity.json). Posts progress while searching, then the public result.
 */
import { parentPort } from 'node:worker_threads';
import { createIdentity, toHex } from '../identity/index.js';
import { isSolveRequest, type WorkerMessage } from './pow-protocol.js';

const port = parentPort;
if (port === null) throw new Error('pow-worker.ts runs only as a worker thread');

function post(message: WorkerMessage): void {
  port!.postMessage(message);
}

port.on('message', (request: unknown) => {
  if (!isSolveRequest(request)) {
    post({ type: 'failed', code: 'BAD_ARGUMENT', message: 'the worker got a request it does not understand' });
    return;
  }
  createIdentity(request.dir, {
    difficulty: request.difficulty,
    onProgress: (attempts, hashesPerSec) => post({ type: 'progress', attempts, hashesPerSec }),
  }).then(
    (identity) => {
      const message: WorkerMessage = { type: 'done', publicKey: toHex(identity.publicKey), peerId: toHex(identity.peerId) };
      identity.destroy();
      post(message);
    },
    (err: unknown) => {
      const code = typeof (err as { code?: unknown } | undefined)?.code === 'string' ? (err as { code: string }).code : 'UNEXPECTED';
      post({ type: 'failed', code, message: err instanceof Error ? err.message : String(err) });
    },
  );
});
