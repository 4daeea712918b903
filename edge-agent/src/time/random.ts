/**
 * The default randomness of a port's timers when none is injected: mulberry32
 * seeded from the clock identity, so two runs of the same port draw alike and
 * two clocks on one link do not draw in lockstep.
 */
export function seededUniform(seedBytes: Uint8Array): () => number {
  let a = 0x9e3779b9;
  for (const b of seedBytes) a = Math.imul(a ^ b, 0x85ebca6b) >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let x = Math.imul(a ^ (a >>> 15), 1 | a);
    x = (x + Math.imul(x ^ (x >>> 7), 61 | x)) ^ x;
    return ((x ^ (x >>> 14)) >>> 0) / 2 ** 32;
  };
}
