/**
 * snarkjs computes on one shared BN254 curve object (ffjavascript's, WebAssembly with a
 * pool of worker threads), cached process-wide. The threads keep a process alive, so every
 * prover and verifier holds a reference and the last one to close terminates the pool.
 * The curve is built once even when several holders ask at the same time (ffjavascript
 * caches it only after building, so concurrent first calls would each start a pool).
 */
import * as snarkjs from 'snarkjs';

interface SnarkjsCurve {
  terminate(): Promise<void>;
}

let holders = 0;
let curve: Promise<SnarkjsCurve> | undefined;

function curveNow(): Promise<SnarkjsCurve> {
  const curves = (snarkjs as unknown as { curves: { getCurveFromName(name: string): Promise<SnarkjsCurve> } }).curves;
  curve ??= curves.getCurveFromName('bn128');
  return curve;
}

export async function retainCurve(): Promise<void> {
  holders++;
  await curveNow();
}

export async function releaseCurve(): Promise<void> {
  if (holders === 0) return;
  holders--;
  if (holders > 0 || curve === undefined) return;
  const c = curve;
  curve = undefined;
  await (await c).terminate();
}
