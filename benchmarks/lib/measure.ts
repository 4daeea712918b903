/**
 * Side-by-side measurement: candidates run in alternating rounds so that a noisy,
 * shared machine slows them alike; the figure per candidate is its median round.
 */
export interface CompareOptions {
  rounds?: number; // alternating rounds per candidate
  roundMs?: number; // time spent in one candidate per round
}

function roundOps(fn: () => unknown, roundMs: number): number {
  let ops = 0;
  const start = process.hrtime.bigint();
  const limit = BigInt(Math.round(roundMs * 1e6));
  let elapsed = 0n;
  // Check the time every batch, not every op, so the timer does not dominate tiny ops.
  while (elapsed < limit) {
    for (let i = 0; i < 64; i++) fn();
    ops += 64;
    elapsed = process.hrtime.bigint() - start;
  }
  return ops / (Number(elapsed) / 1e9);
}

export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

/** Operations per second of each synchronous candidate, measured in alternation. */
export function compareOpsPerSec<K extends string>(candidates: Record<K, () => unknown>, opts: CompareOptions = {}): Record<K, number> {
  const { rounds = 7, roundMs = 300 } = opts;
  const names = Object.keys(candidates) as K[];
  for (const k of names) roundOps(candidates[k], roundMs / 3); // warm up the JIT
  const samples = Object.fromEntries(names.map((k) => [k, [] as number[]])) as Record<K, number[]>;
  for (let r = 0; r < rounds; r++) {
    for (const k of names) samples[k].push(roundOps(candidates[k], roundMs));
  }
  return Object.fromEntries(names.map((k) => [k, median(samples[k])])) as Record<K, number>;
}

export function round(x: number, digits = 3): number {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}

/**
 * Operations per second of `concurrency` loops that each run `op` back to back until
 * `ms` have passed: the form for asynchronous work (appends, dials) where callers overlap.
 */
export async function concurrentRate(concurrency: number, ms: number, op: () => Promise<unknown>): Promise<number> {
  let done = 0;
  const start = performance.now();
  const end = start + ms;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (performance.now() < end) {
        await op();
        done += 1;
      }
    }),
  );
  return done / ((performance.now() - start) / 1000);
}
